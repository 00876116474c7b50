from django import template

from sunshine.messaging import selectors

register = template.Library()


@register.filter
def programme_label(code):
    return selectors.programme_label(code)


EVENT_LABELS = {
    "queued": "进入队列",
    "sent": "已发送",
    "delivered": "已送达",
    "retry": "稍后重试",
    "postponed": "顺延",
    "failed": "失败",
    "cancelled": "已取消",
}


@register.filter
def event_label(event):
    return EVENT_LABELS.get(event, event)
