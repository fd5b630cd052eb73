"""Progress bars draw only on a terminal and not with --quiet; messages always print."""

import io

from engine.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_sweep_bar_counts_done_failed_and_eta_on_a_terminal():
    out = Terminal()
    bar = Progress(4, stream=out)
    bar.advance(True)
    bar.advance(False)
    text = out.getvalue()
    assert "2/4 runs (1 failed)" in text and "ETA" in text and "[" in text
    bar.message("FAILED run x: reason")
    bar.close()
    assert "FAILED run x: reason\n" in out.getvalue()


def test_step_bar_for_a_single_long_run():
    out = Terminal()
    Progress(1, stream=out).step(50, 200)
    assert "step 50/200" in out.getvalue()


def test_quiet_and_non_terminal_print_only_messages():
    for stream, quiet in ((Terminal(), True), (io.StringIO(), False)):
        bar = Progress(3, quiet=quiet, stream=stream)
        bar.advance(True)
        bar.step(1, 10)
        bar.message("FAILED run y")
        bar.close()
        assert stream.getvalue() == "FAILED run y\n"
