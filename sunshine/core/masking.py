"""The only masking functions public output may use (SPEC §0.2, DOMAIN 'Masking')."""


def mask_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) == 18:
        return value[:6] + "*" * 8 + value[-4:]
    if len(value) > 4:
        return "*" * (len(value) - 4) + value[-4:]
    return "*" * len(value)


def mask_mobile(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) == 11:
        return value[:3] + "****" + value[-4:]
    if len(value) > 4:
        return "*" * (len(value) - 4) + value[-4:]
    return "*" * len(value)
