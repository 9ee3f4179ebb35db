"""TAP for the Python test programs: @case collects the cases, run_cases() reports them.

meson counts every case ('tap' protocol); scripts/test-summary sums them.
"""
import sys

cases = []


class Skip(Exception):
    """Raised by a case to be reported as skipped, with the reason."""


def case(fn):
    cases.append(fn)
    return fn


def run_cases(skip_all=None, after_each=None):
    """Run the cases in order and exit 1 if any failed.

    skip_all: a reason to report every case skipped (e.g. not root).
    after_each: called after every case, passed or failed (clean-up).
    """
    print(f"1..{len(cases)}", flush=True)
    failed = 0
    for i, fn in enumerate(cases, 1):
        if skip_all:
            print(f"ok {i} - {fn.__name__} # SKIP {skip_all}")
            continue
        try:
            fn()
            print(f"ok {i} - {fn.__name__}")
        except Skip as s:
            print(f"ok {i} - {fn.__name__} # SKIP {s}")
        except Exception as e:  # noqa: BLE001 - any failure is a TAP failure
            failed += 1
            print(f"# {type(e).__name__}: {e}"[:4000])
            print(f"not ok {i} - {fn.__name__}")
        finally:
            if after_each is not None:
                after_each()
            sys.stdout.flush()
    sys.exit(1 if failed else 0)
