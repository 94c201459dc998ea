import sys

from kuzushi_core.cli import main

if __name__ == "__main__":  # guarded: worker processes (multiprocessing spawn) import this module again
    sys.exit(main())
