"""`python -m expectations.suite_worker FD`: the process ``expectations.marts.SuiteWorker``
starts, serving validations over the socket it was handed (file descriptor FD)."""

import sys
from multiprocessing.connection import Connection

from expectations.marts import serve

if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
