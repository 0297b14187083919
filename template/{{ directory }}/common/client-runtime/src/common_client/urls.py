"""Where a deployed API is: its stage URL, read from the infrastructure's outputs by name."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path


def url_from_terraform(output: str, *, chdir: str | os.PathLike[str] = ".") -> str:
    """The value of the Terraform output ``output`` of the root configuration in ``chdir``.

    For example ``url_from_terraform("order_service_api_url", chdir="packages/infra")``: runs
    ``terraform output -raw``, which reads the configuration's state.
    """
    result = subprocess.run(
        ["terraform", f"-chdir={os.fspath(chdir)}", "output", "-raw", output],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise LookupError(f"terraform output {output} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def url_from_cdk_outputs(path: str | os.PathLike[str], *, prefix: str, stack: str = "Apis") -> str:
    """The output of ``stack`` whose name starts with ``prefix``, from the file that
    ``cdk deploy --outputs-file <path>`` writes.

    The API construct writes its URL as the output ``<construct id>Url`` followed by a hash:
    ``url_from_cdk_outputs("cdk-outputs.json", prefix="OrderServiceApiUrl")``.
    """
    outputs: dict[str, str] = json.loads(Path(path).read_text(encoding="utf-8"))[stack]
    found = [value for name, value in outputs.items() if name.startswith(prefix)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} outputs of {stack} start with {prefix}: {sorted(outputs)}")
    return found[0]
