"""Store an ONNX graph's large float32 weights as float16, cast back to float32 when the session loads.

Each float32 initializer with at least ``min_elements`` values becomes a float16 initializer feeding a
``Cast`` node to float32 under the original name. ONNX Runtime folds those casts at session creation
(graph optimisation: constant folding), so inference still computes in float32, at the same speed; only
the stored weights are rounded to float16 (relative error <= 2**-11). The file is about half the size.
Build-time only (needs the ``onnx`` package); the callers check agreement with torch afterwards.

    python installer/shrink_onnx.py IN.onnx OUT.onnx
"""

from __future__ import annotations

import sys
from pathlib import Path

MIN_ELEMENTS = 1024


def shrink(source: Path, target: Path, min_elements: int = MIN_ELEMENTS) -> dict:
    """Write the float16-weight graph of ``source`` to ``target``; returns counts and sizes."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    graph_inputs = {i.name for i in graph.input}
    casts, halves, converted = [], [], 0
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < min_elements or init.name in graph_inputs:
            continue
        values = numpy_helper.to_array(init)
        half = numpy_helper.from_array(values.astype(np.float16), f"{init.name}__fp16")
        graph.initializer.remove(init)
        halves.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT,
                                      name=f"{init.name}__to_fp32"))
        converted += 1
    graph.initializer.extend(halves)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)  # casts first: the node list stays in topological order
    onnx.checker.check_model(model)
    tmp = target.with_name(target.name + ".shrink.tmp")
    onnx.save(model, str(tmp))
    tmp.replace(target)
    return {"converted": converted, "bytes_before": source.stat().st_size if source != target else None,
            "bytes_after": target.stat().st_size}


if __name__ == "__main__":
    print(shrink(Path(sys.argv[1]), Path(sys.argv[2])))
