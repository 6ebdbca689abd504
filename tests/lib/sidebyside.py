"""sidebyside — runs a test's independent parts at the same time (each its
own `rtchaos run` against its own server, or its own channels of a shared
one), so that a test waits for its longest part rather than for the sum of
them. Their output lines may interleave; each part prints whole lines."""
import concurrent.futures
import traceback


def run(*parts):
    """Calls every part (a function without arguments) in a thread of its
    own and waits for all of them; then raises the first failure in the
    order given (every failure's traceback printed), or returns their
    results in that order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(parts)) as ex:
        futures = [ex.submit(p) for p in parts]
        concurrent.futures.wait(futures)
    failed = [f for f in futures if f.exception() is not None]
    for f in failed[1:]:
        traceback.print_exception(f.exception())
    if failed:
        raise failed[0].exception()
    return [f.result() for f in futures]
