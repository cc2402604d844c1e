"""Widget and WeChat turns while the action server is away: held, then answered; told to write
again only after a long outage; a turn whose action call failed is undone and run again."""

from __future__ import annotations

from connectors.action_outage import run_held
from connectors.gate import REPLIES

ENDPOINT = object()  # stands in for Rasa's EndpointConfig: only passed to the probe


class Probe:
    """Answers ``reachable`` from a script of answers; the last one repeats."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def reachable(self, endpoint: object, fresh: bool = False) -> bool:
        assert endpoint is ENDPOINT
        self.asked += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class Customer:
    """The turn's runner (saying ``sends`` messages per run), undoer and listener."""

    def __init__(self, *sends: int) -> None:
        self.sends = list(sends)
        self.ran: list[str] = []
        self.undone: list[str] = []
        self.told: list[str] = []

    async def run(self, message_id: str) -> int:
        self.ran.append(message_id)
        return self.sends.pop(0)

    async def undo(self, message_id: str) -> bool:
        self.undone.append(message_id)
        return True

    async def tell(self, text: str) -> None:
        self.told.append(text)


async def held(probe: Probe, customer: Customer, language: str = "en", **options) -> bool:
    options = {"seconds": 0.2, "poll": 0.01} | options
    return await run_held(
        ENDPOINT, probe, language, customer.run, customer.undo, customer.tell, **options
    )


async def test_with_the_action_server_there_the_turn_just_runs():
    customer = Customer(1)
    assert await held(Probe(True), customer)
    assert len(customer.ran) == 1 and customer.told == [] and customer.undone == []


async def test_a_turn_while_the_action_server_restarts_waits_for_it_and_is_answered():
    customer = Customer(1)
    assert await held(Probe(False, False, False, True), customer, "zh-TW")
    assert customer.told == [REPLIES["hold"]["zh-TW"]]  # once, in the customer's script
    assert len(customer.ran) == 1 and customer.undone == []


async def test_after_a_long_outage_the_customer_is_asked_to_write_again_and_nothing_ran():
    customer = Customer()
    assert not await held(Probe(False), customer, seconds=0.05)
    assert customer.told == [REPLIES["hold"]["en"], REPLIES["unavailable"]["en"]]
    assert customer.ran == []


async def test_a_turn_whose_action_call_failed_is_undone_and_run_again_once_it_is_back():
    customer = Customer(0, 2)
    # there before the turn; gone after it (the call failed); back two looks later
    assert await held(Probe(True, False, False, False, True), customer)
    assert customer.undone == customer.ran[:1] and len(customer.ran) == 2
    assert customer.ran[0] != customer.ran[1]  # a new message id for the second run
    assert customer.told == [REPLIES["hold"]["en"]]


async def test_a_turn_that_fails_twice_is_undone_twice_and_the_customer_asked_to_write_again():
    customer = Customer(0, 0)
    assert not await held(Probe(True, False, True, False), customer)
    assert customer.undone == customer.ran and len(customer.ran) == 2
    assert customer.told[-1] == REPLIES["unavailable"]["en"]


async def test_a_quiet_turn_is_not_a_failure_while_the_action_server_is_there():
    customer = Customer(0)  # an agent has the conversation: the bot says nothing
    assert await held(Probe(True), customer)
    assert customer.undone == [] and customer.told == []


async def test_where_only_one_answer_can_be_given_nobody_is_told_to_wait():
    customer = Customer(1)
    assert await held(Probe(False, True), customer, notify_wait=False)
    assert customer.told == [] and len(customer.ran) == 1
