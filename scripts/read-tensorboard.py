"""Reads a directory of TensorBoard runs with tensorboard's own EventAccumulator and prints
every run's scalars, hyperparameters and end status as JSON: how the tests check that the
event files Orrery writes are what TensorBoard reads.

    python scripts/read-tensorboard.py REPORT_DIR/tensorboard
"""
import json
import os
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

root = sys.argv[1]
runs = {}
for name in sorted(os.listdir(root)):
    path = os.path.join(root, name)
    if not os.path.isdir(path):
        continue
    accumulator = EventAccumulator(path, size_guidance={"scalars": 0})
    accumulator.Reload()
    run = {"scalars": {}, "hparams": {}, "status": None}
    for tag in accumulator.Tags()["scalars"]:
        run["scalars"][tag] = [[event.step, event.value] for event in accumulator.Scalars(tag)]
    for tag, content in accumulator.PluginTagToContent("hparams").items():
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        if data.HasField("session_start_info"):
            for key, value in data.session_start_info.hparams.items():
                kind = value.WhichOneof("kind")
                run["hparams"][key] = getattr(value, kind)
        if data.HasField("session_end_info"):
            run["status"] = api_pb2.Status.Name(data.session_end_info.status)
    runs[name] = run
print(json.dumps(runs, sort_keys=True))
