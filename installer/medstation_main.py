"""Entry point of the frozen bundle: the same command line as ``medstation`` from a source install.

``multiprocessing.freeze_support()`` lets a frozen child started by ``multiprocessing`` run its task
instead of this program's main; workers started by :mod:`medstation.process_jobs` re-enter through
this executable with their subcommand (``medstation train-worker ...``), so they need nothing more.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from medstation.cli import main

    sys.exit(main())
