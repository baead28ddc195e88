"""Parse a /metrics page with the Prometheus project's own OpenMetrics parser.

usage:
  parse_metrics.py < PAGE
      Reads the exposition from stdin (as lanyard-server and lanyard-agent serve it:
      OpenMetrics text) and prints {"families": {name: {"type", "help", "unit"}},
      "samples": [{"name", "labels", "value"}]}. A page the parser rejects (a malformed line,
      a missing `# EOF`, a counter sample without `_total`) exits 1 with the parser's message.
"""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main() -> int:
    page = sys.stdin.read()
    families = {}
    samples = []
    try:
        for family in text_string_to_metric_families(page):
            families[family.name] = {
                "type": family.type,
                "help": family.documentation,
                "unit": family.unit,
            }
            for s in family.samples:
                samples.append({"name": s.name, "labels": dict(s.labels), "value": s.value})
    except ValueError as e:
        print(f"not valid OpenMetrics: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"families": families, "samples": samples}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
