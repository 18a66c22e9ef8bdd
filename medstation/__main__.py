"""`python -m medstation ...` runs the same command line as the `medstation` script."""

from medstation.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
