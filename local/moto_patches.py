"""Speed and thread-safety patches for the moto server that the edge endpoint embeds.

moto 5.2.5's server has per-request costs that do not depend on the request, and
DynamoDB costs that grow with the table, plus one race:

- the dispatcher lists moto's package folders on disk and tries its URL patterns for
  every request to find the service, and the response class lists its own methods
  with `inspect.getmembers` for every request;
- DynamoDB parses every UpdateExpression twice per request;
- every DynamoDB Query walks and sorts every item of the table (`Table.all_items`),
  so reading one partition costs O(table);
- every TransactWriteItems deep-copies each table it touches, to be able to roll back;
- the DynamoDB backend has no lock, so under the edge's threaded server a transaction
  can deep-copy a dict another request is changing ("dictionary changed size during
  iteration", a 500), and two `ADD` updates can lose one increment.

`install()` patches moto in this process. Both dispatch lookups and the parse trees
of update expressions are cached, and one lock serialises DynamoDB requests. A base-table Query with a hash key and a string
range key reads only the keys it can return, from a sorted key list per partition
that every put and delete keeps up to date. A transaction backs up only the items it
writes. Responses are the same as moto's own, and every other request runs moto's code.
"""
from __future__ import annotations

import bisect
import copy
import functools
import logging
import threading
from typing import Any

logger = logging.getLogger(__name__)

# The moto version whose internals this module was written against and tested with.
SUPPORTED_MOTO_VERSION = "5.2.5"
# The string range-key comparisons that bisect can resolve on a sorted key list.
_BISECT_COMPARISONS = {"EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH"}
# Attribute names on moto's Table objects that hold the sorted range keys of each partition.
_INDEX_ATTRIBUTE = "_local_sorted_range_keys"

# One lock for every DynamoDB request, reentrant because a transaction calls the
# backend's own put, update and delete methods.
request_lock = threading.RLock()
_installed = False
# moto's methods that install() replaced, by (class, attribute name).
_originals: dict[tuple[type, str], Any] = {}
# Incremented by install(), so key lists built before an uninstall() are rebuilt.
_generation = 0


def install() -> bool:
    """Patch moto's server and DynamoDB backend in this process. Safe to call more than once.

    Returns False, and patches nothing, when the installed moto is not SUPPORTED_MOTO_VERSION.
    """
    global _installed, _generation
    import moto
    from moto.core import responses as core_responses
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.responses import DynamoHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if _installed:
        return True
    if moto.__version__ != SUPPORTED_MOTO_VERSION:
        logger.warning(
            "moto %s is installed, but the offline stack's moto patches were written for moto %s, so they stay off: "
            "queries and transactions cost O(table size) and concurrent writes can race.",
            moto.__version__, SUPPORTED_MOTO_VERSION,
        )
        return False

    _originals.update(
        {
            (DynamoHandler, "call_action"): DynamoHandler.call_action,
            (Table, "query"): Table.query,
            (Table, "put_item"): Table.put_item,
            (Table, "delete_item"): Table.delete_item,
            (DynamoDBBackend, "transact_write_items"): DynamoDBBackend.transact_write_items,
            (DomainDispatcherApplication, "get_backend_for_host"): DomainDispatcherApplication.get_backend_for_host,
            (core_responses, "method_names_from_class"): core_responses.method_names_from_class,
            (UpdateExpressionParser, "make"): UpdateExpressionParser.__dict__["make"],
        }
    )
    # moto parses each UpdateExpression twice per request. The parse tree depends only on the
    # string, and moto's validator deep-copies it before substituting names and values.
    UpdateExpressionParser.make = classmethod(
        functools.lru_cache(maxsize=1024)(UpdateExpressionParser.__dict__["make"].__func__)
    )
    DomainDispatcherApplication.get_backend_for_host = _cached_backend_for_host(
        DomainDispatcherApplication.get_backend_for_host
    )
    core_responses.method_names_from_class = functools.lru_cache(maxsize=None)(core_responses.method_names_from_class)
    DynamoHandler.call_action = _locked(DynamoHandler.call_action)
    Table.query = _partition_query(Table.query)
    Table.put_item = _indexed_put(Table.put_item)
    Table.delete_item = _indexed_delete(Table.delete_item)
    DynamoDBBackend.transact_write_items = transact_write_items
    _generation += 1
    _installed = True
    logger.debug("Patched moto: cached dispatch, DynamoDB request lock, partition queries, per-item rollback")
    return True


def uninstall() -> None:
    """Restore moto's own methods, so tests can compare both. Tables keep their stale key lists, unused."""
    global _installed
    for (owner, name), original in _originals.items():
        setattr(owner, name, original)
    _originals.clear()
    _installed = False


def _cached_backend_for_host(get_backend_for_host: Any) -> Any:
    """Cache the service name per Host value. moto's lookup depends only on the host and moto's own files."""
    cache: dict[str, Any] = {}

    @functools.wraps(get_backend_for_host)
    def wrapper(self: Any, host: str | None) -> Any:
        if host is None:
            return get_backend_for_host(self, host)
        if host not in cache:
            cache[host] = get_backend_for_host(self, host)
        return cache[host]

    return wrapper


def _locked(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with request_lock:
            return method(*args, **kwargs)

    return wrapper


# --- sorted range keys per partition ---------------------------------------------------


def _sorted_keys(table: Any) -> dict[Any, list[Any]] | None:
    """Return the table's sorted range keys per hash key, building them on first use.

    Returns None for a table this index does not serve: no range key, or a range key that is not a string.
    """
    if table.range_key_attr is None or table.range_key_type != "S":
        return None
    index = _index_if_built(table)
    if index is None:
        index = {hash_key: sorted(key.value for key in partition) for hash_key, partition in table.items.items()}
        setattr(table, _INDEX_ATTRIBUTE, (table.items, _generation, index))
    return index


def _index_if_built(table: Any) -> dict[Any, list[Any]] | None:
    """Return the table's key lists if they are current, else None.

    They are stale when a restore or copy replaced the table's items dict, or when
    writes went through moto's own methods between uninstall() and install().
    """
    built = getattr(table, _INDEX_ATTRIBUTE, None)
    if built is None:
        return None
    items, generation, index = built
    if items is not table.items or generation != _generation:
        return None
    return index


def _add_key(table: Any, hash_key: Any, range_key: Any) -> None:
    index = _index_if_built(table)
    if index is None or range_key is None:
        return
    keys = index.setdefault(hash_key, [])
    position = bisect.bisect_left(keys, range_key.value)
    if position == len(keys) or keys[position] != range_key.value:
        keys.insert(position, range_key.value)


def _remove_key(table: Any, hash_key: Any, range_key: Any) -> None:
    index = _index_if_built(table)
    if index is None or range_key is None:
        return
    keys = index.get(hash_key, [])
    position = bisect.bisect_left(keys, range_key.value)
    if position < len(keys) and keys[position] == range_key.value:
        del keys[position]


def _indexed_put(put_item: Any) -> Any:
    @functools.wraps(put_item)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = put_item(self, *args, **kwargs)
        _add_key(self, item.hash_key, item.range_key)
        return item

    return wrapper


def _indexed_delete(delete_item: Any) -> Any:
    @functools.wraps(delete_item)
    def wrapper(self: Any, hash_key: Any, range_key: Any) -> Any:
        item = delete_item(self, hash_key, range_key)
        if item is not None:
            _remove_key(self, hash_key, range_key)
        return item

    return wrapper


# --- Query of one partition -----------------------------------------------------------


def _partition_query(query: Any) -> Any:
    """Wrap Table.query so that a base-table query reads only the items it can return, not the whole table.

    moto's query takes its candidates from `all_items()`, then sorts them, skips to
    ExclusiveStartKey, applies the range condition and stops after Limit. The wrapper
    gives it, as `all_items()`, only the partition's items in the condition's range
    after the start key, cut by `_limit_window` to what moto reads before it stops.
    moto then does the rest.
    """

    @functools.wraps(query)
    def wrapper(self: Any, hash_key: Any, range_comparison: str | None, range_objs: list[Any], limit: int | None,
                exclusive_start_key: dict[str, Any] | None, scan_index_forward: bool, *args: Any,
                **kwargs: Any) -> Any:
        candidates = None
        if _can_narrow(self, kwargs, args):
            candidates = _candidate_items(
                self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward
            )
        if candidates is None:
            return query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                         scan_index_forward, *args, **kwargs)
        with request_lock:
            self.all_items = lambda: candidates
            try:
                return query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                             scan_index_forward, *args, **kwargs)
            finally:
                del self.all_items

    return wrapper


def _can_narrow(table: Any, kwargs: dict[str, Any], args: tuple[Any, ...]) -> bool:
    # Positional extras are projection_expressions, index_name, ...; an index name among them means a GSI query.
    index_name = kwargs.get("index_name", args[1] if len(args) > 1 else None)
    range_conditions = kwargs.get("range_key_conditions") or []
    legacy_filters = {key for key in kwargs if key not in _QUERY_KEYWORDS}
    return (
        index_name is None
        and len(range_conditions) <= 1
        and not legacy_filters
        and _sorted_keys(table) is not None
    )


_QUERY_KEYWORDS = {
    "projection_expressions", "index_name", "consistent_read", "filter_expression",
    "hash_key_conditions", "range_key_conditions",
}


def _candidate_items(
    table: Any,
    hash_key: Any,
    range_comparison: str | None,
    range_objs: list[Any],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    scan_index_forward: bool,
) -> list[Any] | None:
    """Return the partition's items that the query can return, in key order, or None to use moto's own path."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if hash_key is None:
        return None
    bounds = _range_bounds(range_comparison, range_objs)
    if bounds is None:
        return None
    index = _sorted_keys(table)
    assert index is not None
    keys = index.get(hash_key, [])
    low, high = bounds(keys)

    if exclusive_start_key:
        start = exclusive_start_key.get(table.range_key_attr, {}).get("S")
        if start is None:
            return None
        if scan_index_forward:
            low = max(low, bisect.bisect_right(keys, start))
        else:
            high = min(high, bisect.bisect_left(keys, start))
    high = max(low, high)
    low, high = _limit_window(low, high, len(keys), limit, scan_index_forward)

    partition = table.items.get(hash_key, {})
    selected = []
    for value in keys[low:high]:
        item = partition.get(DynamoType({"S": value}))
        if item is not None:
            selected.append(item)
    return selected


def _limit_window(low: int, high: int, size: int, limit: int | None, forward: bool) -> tuple[int, int]:
    """Cut the matching keys [low, high) to what moto's loop reads before it stops at Limit.

    moto sets LastEvaluatedKey when it meets another partition item after Limit matches,
    whether or not that item matches. So the window keeps Limit + 1 matches, or, with
    exactly Limit matches, the next partition key beyond them.
    """
    if limit is None:
        return low, high
    matches = high - low
    if forward:
        if matches > limit:
            return low, low + limit + 1
        if matches == limit and high < size:
            return low, high + 1
        return low, high
    if matches > limit:
        return high - limit - 1, high
    if matches == limit and low > 0:
        return low - 1, high
    return low, high


def _range_bounds(range_comparison: str | None, range_objs: list[Any]) -> Any:
    """Return a function from sorted keys to the [low, high) slice the condition selects, or None."""
    if range_comparison is None:
        return lambda keys: (0, len(keys))
    if range_comparison not in _BISECT_COMPARISONS or any(value.type != "S" for value in range_objs):
        return None
    values = [value.value for value in range_objs]
    if range_comparison == "BEGINS_WITH":
        prefix = values[0]
        if not prefix or ord(prefix[-1]) == 0x10FFFF:
            return None
        # Every string that starts with the prefix sorts below the prefix with its last character incremented.
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return lambda keys: (bisect.bisect_left(keys, prefix), bisect.bisect_left(keys, after))
    first = values[0]
    slices = {
        "EQ": lambda keys: (bisect.bisect_left(keys, first), bisect.bisect_right(keys, first)),
        "LT": lambda keys: (0, bisect.bisect_left(keys, first)),
        "LE": lambda keys: (0, bisect.bisect_right(keys, first)),
        "GT": lambda keys: (bisect.bisect_right(keys, first), len(keys)),
        "GE": lambda keys: (bisect.bisect_left(keys, first), len(keys)),
    }
    if range_comparison == "BETWEEN":
        last = values[1]
        return lambda keys: (bisect.bisect_left(keys, first), bisect.bisect_right(keys, last))
    return slices[range_comparison]


# --- TransactWriteItems ---------------------------------------------------------------


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's DynamoDBBackend.transact_write_items, with a rollback that restores only the written items.

    moto deep-copies every table the transaction names before it starts, which costs
    O(table size) on each call. This version copies each item just before an action
    changes it and puts those copies back when the transaction is cancelled. Checks,
    errors and cancellation reasons are moto's own.
    """
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.comparisons import get_filter_expression

    if len(transact_items) > 100:
        raise TooManyTransactionsException()

    with request_lock:
        backups: list[tuple[Any, Any, Any, Any]] = []
        target_items: set[tuple[str, str]] = set()

        def check_unicity(table_name: str, key: dict[str, Any]) -> None:
            item = (str(table_name), str(dict(sorted(key.items()))))
            if item in target_items:
                raise MultipleTransactionsException()
            target_items.add(item)

        def rollback() -> None:
            for table, hash_value, range_value, original in reversed(backups):
                _restore_item(table, hash_value, range_value, original)

        errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
        for item in transact_items:
            original_item: dict[str, Any] | None = None
            if len(list(item.keys())) > 1:
                raise TransactWriteSingleOpException
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")

                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                expression_attribute_names = op.get("ExpressionAttributeNames")
                expression_attribute_values = op.get("ExpressionAttributeValues")
                return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

                table = self.get_table(table_name)
                if op_type == "Put":
                    attrs = op["Item"]
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]

                check_unicity(table_name, key)

                current = self.get_item(table_name, key)
                if condition_expression is not None:
                    condition_op = get_filter_expression(
                        condition_expression, expression_attribute_names, expression_attribute_values
                    )
                    if not condition_op.expr(current):
                        if return_values_on_condition_check_failure == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)

                if op_type != "ConditionCheck":
                    backups.append((table, *_key_values(table, key), copy.deepcopy(current)))
                if op_type == "Put":
                    self.put_item(
                        table_name,
                        op["Item"],
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Delete":
                    self.delete_item(
                        table_name,
                        key,
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                elif op_type == "Update":
                    self.update_item(
                        table_name,
                        key,
                        update_expression=op["UpdateExpression"],
                        condition_expression=condition_expression,
                        expression_attribute_names=expression_attribute_names,
                        expression_attribute_values=expression_attribute_values,
                    )
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                rollback()
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
            except Exception as e:  # moto records any other failure as that action's cancellation reason
                errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

        if any(code is not None for code, _, _ in errors):
            rollback()
            raise TransactionCanceledException(errors)


def _key_values(table: Any, key: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr is not None else None
    return hash_value, range_value


def _restore_item(table: Any, hash_value: Any, range_value: Any, original: Any) -> None:
    """Put an item back as it was before a cancelled transaction changed it; None means it did not exist."""
    if original is None:
        table.delete_item(hash_value, range_value)
        return
    if range_value is None:
        table.items[hash_value] = original
        return
    table.items[hash_value][range_value] = original
    _add_key(table, hash_value, range_value)
