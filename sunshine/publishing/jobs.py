"""Batch posters for every board under a place, as one zip, in the task worker."""

from pathlib import Path

from django.conf import settings
from django.core.files import File

from sunshine.core import jobs
from sunshine.places import rules as place_rules
from sunshine.places.models import Place


@jobs.runner("publishing.posters")
def run_poster_batch(job, progress) -> str:
    from sunshine.publishing import posters

    place = Place.objects.get(code=job.options["place"])
    size = job.options.get("size", "A4")
    boards = Place.objects.filter(
        path__startswith=place.path, level__in=place_rules.PUBLICATION_LEVELS, is_active=True
    ).order_by("path")
    total = boards.count()
    path = posters.batch_zip(
        boards.iterator(chunk_size=500),
        total=total,
        size=size,
        base_url=job.options.get("base_url", getattr(settings, "SUNSHINE_BASE_URL", "")),
        progress=lambda done: progress(done, total, "生成海报"),
    )
    with open(path, "rb") as fh:
        job.result_file.save(f"公示栏海报-{place.code}-{size}.zip", File(fh), save=False)
    Path(path).unlink(missing_ok=True)
    job.result = {"total": total}
    return f"已生成 {total} 个公示栏的海报（{size}）。"
