"""A Ralph bidder written in Python, built with componentize-py.

Strategy: documentation first. It plans to describe the change in the
README before touching code, and sizes the work from the requirements'
complexity.

Build:
    componentize-py -d ../../../wit/0.1.0 -w ralph:plugin/bidder@0.1.0 \
        componentize app -o python_bidder.wasm
"""

from typing import List

import wit_world
from componentize_py_types import Err
from wit_world.imports import log, types

LINES = {
    types.Complexity.TRIVIAL: 5,
    types.Complexity.SMALL: 20,
    types.Complexity.MEDIUM: 60,
    types.Complexity.LARGE: 150,
    types.Complexity.VERY_LARGE: 400,
}


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.Metadata:
        return types.Metadata(
            name="python-bidder",
            version="0.1.0",
            description="Bids to document the change in the README first (written in Python)",
            capabilities=[],
        )

    def propose(
        self,
        issue: types.IssueSpec,
        requirements: List[types.Requirement],
        context: types.RoundContext,
    ) -> types.Proposal:
        if not requirements:
            raise Err(types.PluginError_InvalidRequest("the issue has no requirements"))
        log.log(log.Level.INFO, "Proposing from Python", [log.Field("issue", issue.id)])
        lines = sum(LINES[requirement.complexity] for requirement in requirements)
        steps = ["document the behaviour in README.md"]
        steps += [f"implement {r.id}: {r.description}" for r in requirements]
        if context.failure_report is not None:
            steps.insert(0, f"address the failure: {context.failure_report}")
        return types.Proposal(
            summary=f"Document \"{issue.title}\" in the README, then implement it in about {lines} lines.",
            pseudo_code="\n".join(steps),
            requirements_covered=[requirement.id for requirement in requirements],
            files=[
                types.FileChange(path="README.md", estimated_lines=10),
                types.FileChange(path="src/lib.rs", estimated_lines=lines),
            ],
            planned_tests=[f"the README example for {r.id} runs" for r in requirements],
            patch=None,
            self_estimate=types.DimensionScores(
                spec_alignment=0.75,
                technical_quality=0.6,
                innovation=0.4,
                risk=0.8,
                efficiency=0.6,
            ),
        )
