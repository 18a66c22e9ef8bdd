"""PyInstaller runtime hook: chromadb without gRPC (about 19 MB of gRPC and protobuf left out of the bundle).

``chromadb.telemetry.opentelemetry`` imports ``OTLPSpanExporter`` from the gRPC OpenTelemetry exporter at
module level, but constructs it only when ``chroma_otel_granularity`` is set (span export to a collector).
MedStation never sets it (``medstation.rag.vector_store`` runs chromadb with telemetry off), so the bundle
leaves gRPC, protobuf and the OTLP exporter out. In their place this hook registers a module whose
``OTLPSpanExporter`` refuses plainly, so turning span export on in the bundle fails with a clear message
instead of an ImportError at chromadb's import. Nothing happens when gRPC is present (a source install).
"""

import importlib.util
import sys
import types

_NAME = "opentelemetry.exporter.otlp.proto.grpc.trace_exporter"

if importlib.util.find_spec("grpc") is None and _NAME not in sys.modules:

    class OTLPSpanExporter:  # the name chromadb imports
        def __init__(self, *args, **kwargs):
            raise RuntimeError("OpenTelemetry span export over gRPC is not in the MedStation bundle "
                               "(leave chroma_otel_granularity unset)")

    _module = types.ModuleType(_NAME, "OTLP gRPC span exporter: not in the MedStation bundle")
    _module.OTLPSpanExporter = OTLPSpanExporter
    sys.modules[_NAME] = _module
