#!/usr/bin/env python3
"""A straightforward Python implementation of SPEC section 2 (the state fold).

Used two ways: the benchmark times it against Ralph's fold on the same files,
and a differential test compares its output with Ralph's on generated logs.
It is written independently of the Rust code: a linear scan over the kinks
for the projection, Python's own JSON and datetime parsing.

Usage: reference_fold.py REPOSITORY   (prints the state as JSON)
"""

import datetime
import json
import math
import os
import re
import sys

OUTCOMES = {"success", "failure", "not_tried", "resubmitted", "error", "ranked",
            "revert", "defect", "churn", "override"}
BOT_ID = re.compile(r"[a-z0-9_-]+")
RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def load_config(repository):
    with open(os.path.join(repository, ".ralph", "config.json")) as handle:
        raw = json.load(handle)
    config = {"num_bots": 3, "base_budget_per_bot": 10, "min_allocation_per_bot": 1,
              "weight_constraints": {"min": 0.05, "max": 0.60}}
    config.update(raw)
    return config


def parse_time(text):
    if not isinstance(text, str) or not RFC3339.fullmatch(text):
        raise ValueError("timestamp")
    if not (text.endswith("Z") or text.endswith("z") or text.endswith("+00:00")
            or text.endswith("-00:00")):
        raise ValueError("timestamp not UTC")
    body = text[:-1] if text[-1] in "Zz" else text[:-6]
    fraction = 0
    if "." in body:
        body, digits = body.split(".")
        fraction = int((digits + "000000000")[:9])
    moment = datetime.datetime.strptime(body.replace("t", "T"), "%Y-%m-%dT%H:%M:%S")
    seconds = (moment - datetime.datetime(1970, 1, 1)).total_seconds()
    return (int(seconds), fraction)


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def validate(event):
    if not isinstance(event, dict):
        raise ValueError("not an object")
    for field in ("timestamp", "issue_number", "bot_id", "outcome", "weight_delta"):
        if field not in event:
            raise ValueError("missing " + field)
    key = parse_time(event["timestamp"])
    if not is_count(event["issue_number"]):
        raise ValueError("issue_number")
    if not isinstance(event["bot_id"], str) or not BOT_ID.fullmatch(event["bot_id"]):
        raise ValueError("bot_id")
    if event["outcome"] not in OUTCOMES:
        raise ValueError("outcome")
    delta = event["weight_delta"]
    if not is_number(delta) or not math.isfinite(delta) or not -1 <= delta <= 1:
        raise ValueError("weight_delta")
    for field in ("proposal_score", "implementation_score", "accuracy"):
        value = event.get(field)
        if value is not None and (not is_number(value) or not 0 <= value <= 1):
            raise ValueError(field)
    count = event.get("iteration_count")
    if count is not None and not is_count(count):
        raise ValueError("iteration_count")
    metrics = event.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, dict):
            raise ValueError("metrics")
        for field in ("tests_passed", "code_quality_passed"):
            if metrics.get(field) is not None and not isinstance(metrics[field], bool):
                raise ValueError(field)
        for field in ("lines_changed", "files_affected"):
            if metrics.get(field) is not None and not is_count(metrics[field]):
                raise ValueError(field)
        delta_coverage = metrics.get("coverage_delta")
        if delta_coverage is not None and (not is_number(delta_coverage)
                                           or not math.isfinite(delta_coverage)):
            raise ValueError("coverage_delta")
    return key


def project(weights, low, high):
    count = len(weights)
    if low * count >= 1:
        return [low] * count
    if high * count <= 1:
        return [high] * count

    def total(tau):
        return sum(min(max(w - tau, low), high) for w in weights)

    kinks = sorted([w - high for w in weights] + [w - low for w in weights])
    left = kinks[0]
    for right in kinks[1:]:
        if total(right) < 1:
            middle = (left + right) / 2
            fixed, free_sum, free_count = 0.0, 0.0, 0
            for w in weights:
                if w - middle >= high:
                    fixed += high
                elif w - middle <= low:
                    fixed += low
                else:
                    free_sum += w
                    free_count += 1
            tau = left if free_count == 0 else (free_sum + fixed - 1) / free_count
            return [min(max(w - tau, low), high) for w in weights]
        left = right
    return [min(max(w - kinks[-1], low), high) for w in weights]


def allocate(weights, efficiencies, pool, minimum):
    scores = [w * e for w, e in zip(weights, efficiencies)]
    if all(s == 0 for s in scores):
        scores = [1.0] * len(scores)
    total = sum(scores)
    spare = pool - minimum * len(scores)
    quotas = [spare * s / total for s in scores]
    allocations = [minimum + int(math.floor(q + 1e-9)) for q in quotas]
    fractions = [q - math.floor(q + 1e-9) for q in quotas]
    for _ in range(pool - sum(allocations)):
        best = 0
        for index in range(1, len(fractions)):
            if fractions[index] > fractions[best] + 1e-9:
                best = index
        allocations[best] += 1
        fractions[best] = -math.inf
    return allocations


def fold(repository):
    config = load_config(repository)
    bots = ["bidder_%d" % index for index in range(1, config["num_bots"] + 1)]
    low = config["weight_constraints"]["min"]
    high = config["weight_constraints"]["max"]
    directory = os.path.join(repository, ".ralph", "events")
    valid, excluded = [], []
    for name in sorted(os.listdir(directory)):
        if name.startswith(".") or not name.endswith(".json"):
            continue
        path = os.path.join(directory, name)
        if os.path.isdir(path):
            continue
        try:
            with open(path, "rb") as handle:
                event = json.loads(handle.read(), parse_constant=_reject_constant)
            key = validate(event)
        except (ValueError, UnicodeDecodeError) as error:
            excluded.append({"file": name, "reason": str(error)})
            continue
        if event["bot_id"] not in bots:
            excluded.append({"file": name, "reason": "unknown bot"})
            continue
        valid.append((key, name, event))
    valid.sort(key=lambda item: (item[0], item[1]))
    weights = [1.0 / len(bots)] * len(bots)
    successes = [0] * len(bots)
    failures = [0] * len(bots)
    for _, _, event in valid:
        index = bots.index(event["bot_id"])
        weights[index] += event["weight_delta"]
        weights = project(weights, low, high)
        if event["outcome"] == "success":
            successes[index] += 1
        elif event["outcome"] == "failure":
            failures[index] += 1
    efficiencies = [(s + 1) / (s + f + 2) for s, f in zip(successes, failures)]
    pool = config["base_budget_per_bot"] * len(bots)
    allocations = allocate(weights, efficiencies, pool, config["min_allocation_per_bot"])
    return {
        "bots": {bot: {"weight": weights[i], "efficiency": efficiencies[i],
                       "successes": successes[i], "failures": failures[i],
                       "allocation": allocations[i]} for i, bot in enumerate(bots)},
        "total_budget_pool": pool,
        "rounds_completed": sum(successes) + sum(failures),
        "event_count": len(valid),
        "excluded_events": excluded,
        "last_updated": valid[-1][2]["timestamp"] if valid else None,
    }


def _reject_constant(name):
    raise ValueError("non-finite number " + name)


if __name__ == "__main__":
    json.dump(fold(sys.argv[1]), sys.stdout, indent=2)
    sys.stdout.write("\n")
