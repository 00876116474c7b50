"""From places and items to the plain data the PDF layer draws (sunshine.publishing.pdf)."""

from collections.abc import Callable, Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from sunshine.core.identifiers import mask_text
from sunshine.places import selectors as place_selectors
from sunshine.places.models import Place
from sunshine.publishing import pdf, selectors

POSTER_ITEMS = 30


def board_url(place: Place, base_url: str | None = None) -> str:
    base = (base_url if base_url is not None else settings.SUNSHINE_BASE_URL).rstrip("/")
    return base + reverse("portal:board", args=[place.code])


def board_data(place: Place, *, base_url: str | None = None) -> pdf.Board:
    ancestors = place_selectors.place_ancestors(place)
    county = next((a.name for a in ancestors if a.level == "county"), place.name)
    items = []
    for item in selectors.board_items(place, ancestors=ancestors)[:POSTER_ITEMS]:
        v = item.current
        items.append(
            pdf.PosterItem(  # masked again: a poster is public output whatever was stored
                title=mask_text(v.title)[0],
                date=timezone.localtime(item.published_at).date(),
                category=item.category.name,
                summary=mask_text(v.summary)[0],
                is_notice=item.is_notice,
                notice_ends=timezone.localtime(item.notice_ends_at).date()
                if item.notice_ends_at
                else None,
                origin="" if item.place_id == place.pk else item.place.name,
            )
        )
    return pdf.Board(
        place_name=place.display_name
        if place.level != "group"
        else f"{place.parent.name}{place.name}"
        if place.parent_id
        else place.name,
        level_label=place.kind_label,
        county_name=county,
        url=board_url(place, base_url),
        items=items,
        hotline=settings.SUNSHINE_HOTLINE,
        generated_at=timezone.localtime(),
    )


def board_pdf(place: Place, *, size: str = "A4", base_url: str | None = None) -> bytes:
    return pdf.board_poster(board_data(place, base_url=base_url), size=size)


def batch_zip(
    places: Iterable[Place],
    *,
    total: int,
    size: str = "A4",
    base_url: str | None = None,
    progress: Callable[[int], None] | None = None,
):
    def boards():
        for place in places:
            if place.level == "group" and place.parent_id:
                place.parent = Place.objects.only("name").get(pk=place.parent_id)
            yield f"{place.code}-{place.name}.pdf", board_data(place, base_url=base_url)

    return pdf.posters_zip(
        boards(),
        size=size,
        progress=(lambda done, _total=None: progress(done)) if progress else None,
    )
