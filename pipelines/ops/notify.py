"""Notifications of the reporting window: when a deadline has passed with schools missing, a run
emits the event DEADLINE_EVENT; a Prefect automation sends it through a notification block the
Sở configured (a webhook, e-mail, Slack …: any Prefect notification block)."""

from __future__ import annotations

from uuid import UUID

DEADLINE_EVENT = "edustat.deadline.missed"
AUTOMATION_NAME = "edustat: hạn nộp đã qua, còn trường chưa nộp / deadline passed with schools missing"
SUBJECT = "[edustat] {{ event.payload.school_year }} {{ event.payload.period }} Sở {{ event.payload.province }}: {{ event.payload.missing }} trường chưa nộp / schools missing"  # fmt: skip
BODY = """Hạn nộp của trường {{ event.payload.deadline }} đã qua; {{ event.payload.missing }}/{{ event.payload.expected }} trường chưa nộp.
The schools' deadline {{ event.payload.deadline }} has passed; {{ event.payload.missing }} of {{ event.payload.expected }} schools sent nothing.
{% for s in event.payload.schools %}- {{ s.school_code }} {{ s.school_name }} (Phòng {{ s.phong_code }})
{% endfor %}{{ event.payload.out }}"""


class NotificationError(ValueError):
    """The notification block is not found or not a notification block (bilingual)."""


def block_document_id(block: str) -> UUID:
    """The id of a saved notification block named "<block-type-slug>/<name>", e.g. custom-webhook/so-66."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    slug, _, name = block.partition("/")
    if not slug or not name:
        raise NotificationError(f"khối thông báo phải có dạng <loại>/<tên> / a notification block is named "
                                f"<type>/<name>, e.g. custom-webhook/so-66: {block!r}")  # fmt: skip
    with get_client(sync_client=True) as client:
        try:
            document = client.read_block_document_by_name(name=name, block_type_slug=slug)
        except ObjectNotFound:
            raise NotificationError(f"không có khối thông báo / no notification block {block!r}") from None
    if "notify" not in (document.block_schema.capabilities if document.block_schema else []):
        raise NotificationError(f"{block!r} không phải khối thông báo / is not a notification block")
    return document.id


def ensure_deadline_automation(block: str) -> UUID:
    """Create (or update) the automation that sends every DEADLINE_EVENT through `block`; returns its id."""
    from prefect.automations import Automation
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture

    action = SendNotification(block_document_id=block_document_id(block), subject=SUBJECT, body=BODY)
    trigger = EventTrigger(expect={DEADLINE_EVENT}, match={"prefect.resource.id": "edustat.so.*"},
                           posture=Posture.Reactive, threshold=1, within=0)  # fmt: skip
    try:
        existing = Automation.read(name=AUTOMATION_NAME)
    except ValueError:
        existing = None
    if existing is not None:
        existing.trigger, existing.actions, existing.enabled = trigger, [action], True
        existing.update()
        return existing.id
    return Automation(name=AUTOMATION_NAME, trigger=trigger, actions=[action]).create().id
