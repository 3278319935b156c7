"""pytest configuration shared by the unit tests and the notebooks under nbval."""


def pytest_collectstart(collector):
    # nbval compares stderr (warnings, text progress bars) and SVG (dated every run) byte for byte;
    # neither carries the book's results, so skip them. PNG is skipped by nbval already.
    if collector.path is not None and collector.path.suffix == ".ipynb":
        collector.skip_compare += ("image/svg+xml", "stderr")
