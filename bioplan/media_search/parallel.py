"""The pricing problems of one round on worker processes.

The cards of one round are priced against the same duals and independently of each other, so
:func:`price_cards` runs them on a pool of forked processes (the machine's cores; each pricing
problem is the vectorised yield model in one thread). The round's inputs (scenario, planning data,
price book) are set as a module global before the fork, so the workers inherit them without
pickling; only the candidates travel back. A pool is started per round, because the inputs
change every round (a fork of the planner costs ~10-30 ms).

Serial, in-process, when ``workers`` ≤ 1, when there is at most one card, when ``fork`` is not
available or other threads are running (a fork then copies their held locks), inside a daemonic
process (a pool worker may not have children), or when the pool cannot start. The candidates are
the same either way: each pricing problem is deterministic given its inputs and seed.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from typing import TYPE_CHECKING, Any

from bioplan.media_search.pricing_problem import Candidate, price_card

if TYPE_CHECKING:
    from bioplan.media_search.robust_pricing import RobustPriceBook
    from bioplan.optimisation.data import PlanData
    from bioplan.optimisation.pricing import PriceBook
    from bioplan.scenario import Scenario

log = logging.getLogger(__name__)

_ROUND: tuple[list[tuple[str, str]], Scenario, PlanData, Any, dict[str, Any]] | None = None
"""(cards, scenario, data, price book, ``price_card`` keywords) of the round being priced:
set in the parent just before the fork, read by the workers."""


def _price(i: int) -> Candidate | None:
    """The ``i``-th card of the round (in a worker, or serially)."""
    assert _ROUND is not None, "pricing worker started without its round"
    pairs, sc, data, book, kwargs = _ROUND
    card, source = pairs[i]
    return price_card(card, source, sc, data, book, **kwargs)


def fork_context() -> Any:
    """The ``fork`` multiprocessing context, or None where forking is not safe or possible
    (module docstring)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    if threading.active_count() > 1 or multiprocessing.current_process().daemon:
        return None
    return multiprocessing.get_context("fork")


def price_cards(pairs: list[tuple[str, str]], sc: Scenario, data: PlanData,
                book: PriceBook | RobustPriceBook, *, workers: int = 2,
                **kwargs: Any) -> list[Candidate | None]:
    """:func:`~bioplan.media_search.pricing_problem.price_card` of every (card, source) of
    ``pairs`` against ``book`` on ``workers`` processes [-], in the order of ``pairs``;
    ``kwargs`` go to ``price_card`` (starts, max_iter, seed, max_integer_moves)."""
    global _ROUND
    _ROUND = (pairs, sc, data, book, kwargs)
    try:
        n = min(workers, len(pairs))
        ctx = fork_context() if n > 1 else None
        if ctx is not None:
            try:
                pool = ctx.Pool(n)
            except (OSError, ValueError) as exc:  # e.g. no processes or memory left
                log.warning("media search: no pricing pool (%s); pricing serially", exc)
            else:
                with pool:
                    # chunksize 1: the cards differ several-fold in time, so hand them out one by
                    # one (the dearest, erythroid-bela, first on the default's order)
                    return pool.map(_price, range(len(pairs)), chunksize=1)
        return [_price(i) for i in range(len(pairs))]
    finally:
        _ROUND = None
