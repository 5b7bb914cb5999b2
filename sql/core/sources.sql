-- The sources a figure can come from, in order of precedence: when several give the same
-- indicator, area and period, marts.indicator_values shows the first with a value. The
-- partnership's own data come first (complete to the latest month, and what the strategy's
-- baselines were set against); the DfE's published figures fill the years and areas local
-- data do not cover. Every source's figure stays in marts.indicator_values_by_source.
select * from (values
    (1, 'partner_return', 'Aggregate return from a partner agency (docs/layouts.md)'),
    (2, 'record_level', 'Computed from record-level extracts: Annex A, SSDA903, the front-door log'),
    (3, 'dfe_published', 'DfE open data (Explore Education Statistics), as published'),
    (4, 'local_return', 'A local measures return: any agency''s own counts (docs/layouts.md, local_measures)'),
    (5, 'fingertips', 'OHID Fingertips, as published: values and their 95% and 99.8% limits')
) as sources (precedence, source, description)
