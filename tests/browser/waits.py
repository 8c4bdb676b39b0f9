"""How long a browser test waits for a state the page publishes before it fails.

Why one generous bound: the suite runs on a shared 2-core machine, loaded or quiet, and a wait
that is long enough only on a quiet machine made tests fail that pass alone (CI, session 16:
the Compare tab's figures took more than 30 s to appear under load).  A wait ends as soon as its
state is reached, so the bound only costs time when a test is failing anyway."""

WAIT_MS = 240_000  # Playwright waits (milliseconds)
WAIT_S = WAIT_MS / 1000  # the tests' own polling helpers (seconds)
