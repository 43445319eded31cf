"""How evenly a classifier spreads generated images over the classes, as one printable range.

A classifier-scored source (digits, Fashion-MNIST) records, for each run, a class histogram:
K shares in [0, 1] summing to 1 (``wgan.metrics.classifier``, ``class_histogram``). Study
tables, the README row and the benchmark reports all print the same summary of them, the
smallest and the largest share any class got, so one piece of code computes and formats it.
"""


def share_range(histograms):
    """``(smallest, largest)`` share of the samples any class got, over ``histograms`` (each a
    list of K class shares in [0, 1] summing to 1; None entries are skipped), or None when there
    are none: the issue's "every class between 5% and 15%" reads straight off it."""
    shares = [share for histogram in histograms if histogram for share in histogram]
    return (min(shares), max(shares)) if shares else None


def format_range(span):
    """``"7.0% - 13.2%"`` for a ``share_range``; empty for None."""
    return f"{span[0]:.1%} - {span[1]:.1%}" if span else ""


def describe(histograms):
    """``format_range(share_range(histograms))``: the cell a table prints."""
    return format_range(share_range(histograms))
