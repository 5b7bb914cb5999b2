"""Publishing: one reader of the marts, disclosure control, charts, PNG export and the committee reports."""
