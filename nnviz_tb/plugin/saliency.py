"""The `SaliencyLogger`'s maps for the routes (plain data; see docs/http_api.md).

Reads the summaries described in `nnviz_tb.metadata` ("Saliency maps")
through `run_data.RunData`. A probe point is a saliency image when their
keys (`nnviz_tb.probe.thumbnail_keys`: the probe's thumbnails, the keys the
logger wrote) agree within `probe.KEY_TOLERANCE`; that matching is done
once per run and set of images, each record's description read once.
"""

import dataclasses
import hashlib
import io
import urllib.parse

from PIL import Image
from tensorboard import errors

from nnviz_tb import metadata, metadata_checks, probe as probe_lib
from nnviz_tb.plugin import lru
from nnviz_tb.plugin.corrupt import CorruptDataError

_MAX_SIDE = 4096  # Sides of a stored map beyond which it is taken for damaged.


def _records(entry):
    """`{method: {epoch: (content, Record)}}` of a run's saliency maps (of the methods this version knows)."""
    found = {}
    for content, record in entry.others.get(metadata.KIND_SALIENCY, []):
        if content["method"] in metadata.SALIENCY_METHODS:
            found.setdefault(content["method"], {})[content["epoch"]] = (content, record)
    return {method: found[method] for method in metadata.SALIENCY_METHODS if method in found}


def summary(entry):
    """The `saliency` field of a run in the `runs` route: `{methods, epochs}`, or None."""
    records = _records(entry)
    if not records:
        return None
    return {"methods": list(records), "epochs": sorted({e for by_epoch in records.values() for e in by_epoch})}


def nearest_epoch(epochs, epoch):
    """The last of the sorted `epochs` at or before `epoch` (the first if none is), or with no `epoch` the last."""
    before = [e for e in epochs if epoch is None or e <= epoch]
    return before[-1] if before else epochs[0]


@dataclasses.dataclass
class _Images:
    """One record's images: the class each explains, its label (or None), and `{probe point: image}`."""

    targets: list
    labels: list
    of_point: dict


class Saliency:
    """Answers the saliency routes of the runs in `data` (a `run_data.RunData`)."""

    def __init__(self, data, cache_entries=1024):
        self._data = data
        self._probe_keys = lru.Lru(16)  # {(experiment, run, probe wall time): keys or None}
        self._matches = lru.Lru(64)  # {(experiment, run, probe wall time, digest of keys): image per point}
        self._images = lru.Lru(cache_entries)  # {(experiment, run, tag, wall time, probe wall time): _Images}

    def point_impl(self, ctx, experiment_id, run, index, epoch=None):
        """The saliency maps of probe point `index` at `epoch` (None: the last recorded).

        Returns a dict: `run`, `index`, `epoch` (the recorded epoch used: the
        last at or before `epoch`, else the first), `methods`: per method
        with a map of the point, in `metadata.SALIENCY_METHODS` order,
        `{method, epoch (its own nearest), image, target, label, url}`;
        `notes`: one sentence per method whose record cannot be read.

        Raises:
          NotFoundError: for an unknown run, a run without saliency maps or
            activations, or a point the probe has not.
        """
        entry = self._data.run(ctx, experiment_id, run)
        records = _records(entry)
        if not records:
            raise errors.NotFoundError("Run %r has no saliency maps." % (run,))
        probe = self._data.probe(ctx, experiment_id, run, entry)
        if index >= len(probe.labels):
            raise errors.NotFoundError("No probe point %d in run %r." % (index, run))
        shown = nearest_epoch(sorted({e for by_epoch in records.values() for e in by_epoch}), epoch)
        methods, notes = [], []
        for method, by_epoch in records.items():
            used = nearest_epoch(sorted(by_epoch), shown)
            try:
                images = self._read_images(ctx, experiment_id, run, entry, *by_epoch[used])
            except CorruptDataError as e:
                notes.append(str(e))
                continue
            image = images.of_point.get(index)
            if image is None:
                continue
            query = urllib.parse.urlencode({"run": run, "method": method, "epoch": used, "image": image})
            methods.append({
                "method": method, "epoch": used, "image": image, "target": images.targets[image],
                "label": None if images.labels is None else images.labels[image],
                "url": "./saliency_image?" + query,
            })
        return {"run": run, "index": index, "epoch": shown, "methods": methods, "notes": notes}

    def image_impl(self, ctx, experiment_id, run, method, epoch, image):
        """PNG bytes of image `image`'s map by `method` at `epoch` (recorded exactly).

        Raises:
          NotFoundError: if the run has no such map.
          CorruptDataError: if the stored map is not a readable PNG.
        """
        by_epoch = _records(self._data.run(ctx, experiment_id, run)).get(method, {})
        if epoch not in by_epoch:
            raise errors.NotFoundError("Run %r has no %s saliency maps at epoch %d." % (run, method, epoch))
        content, record = by_epoch[epoch]
        if image >= content["num_images"]:
            raise errors.NotFoundError("No image %d in %r of run %r (it has %d)."
                                       % (image, record.tag, run, content["num_images"]))
        blobs = self._data.read_blobs(ctx, experiment_id, run, record, (metadata.SALIENCY_IMAGES + image,))
        if not blobs:
            raise CorruptDataError(run, record.tag, "it holds no map of image %d" % image)
        png = bytes(blobs[0])
        try:
            with Image.open(io.BytesIO(png)) as decoded:
                if decoded.format != "PNG" or max(decoded.size) > _MAX_SIDE:
                    raise ValueError("a %s image of %s pixels" % (decoded.format, "x".join(map(str, decoded.size))))
                decoded.load()
        except Exception as e:  # PIL raises many types on damaged bytes.
            raise CorruptDataError(run, record.tag, "the map of image %d is not a readable PNG (%s)" % (image, e))
        return png

    def _read_images(self, ctx, experiment_id, run, entry, content, record):
        """The `_Images` of one record (cached); raises `CorruptDataError`."""
        probe = self._data.probe(ctx, experiment_id, run, entry)
        key = (experiment_id, run, record.tag, record.wall_time, entry.probe.wall_time)
        return self._images.get(key, lambda: self._decode_images(ctx, experiment_id, run, entry, probe, content,
                                                                 record))

    def _decode_images(self, ctx, experiment_id, run, entry, probe, content, record):
        blobs = self._data.read_blobs(ctx, experiment_id, run, record, (metadata.SALIENCY_INFO, metadata.SALIENCY_KEYS))
        count = content["num_images"]
        try:
            if len(blobs) < 2:
                raise metadata.FormatError("it holds %d blobs instead of %d" % (len(blobs), 2 + count))
            targets, labels = metadata_checks.check_saliency_info(metadata.decode_json(blobs[0]), count)
            keys = metadata_checks.check_thumbnails(metadata.decode_array(blobs[1]), count) if len(blobs[1]) else None
        except (ValueError, RecursionError) as e:  # FormatError, and JSON or UTF-8 errors.
            raise CorruptDataError(run, record.tag, e) from e
        run_key = (experiment_id, run, entry.probe.wall_time)
        probe_keys = self._probe_keys.get(run_key, lambda: None if probe.thumbnails is None
                                          else probe_lib.thumbnail_keys(probe.thumbnails))
        if keys is None or probe_keys is None:
            return _Images(targets, labels, {})
        found = self._matches.get(run_key + (hashlib.sha1(bytes(blobs[1])).digest(),),
                                  lambda: probe_lib.match_keys(probe_keys, keys / 255.0))
        return _Images(targets, labels, {int(point): int(image) for point, image in enumerate(found) if image >= 0})
