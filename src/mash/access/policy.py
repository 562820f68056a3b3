"""TEMPORARY re-export while issue 19 moves callers to mash.access.{rules,filters,gate} and the domains' selectors.
Deleted once nothing imports it."""
# flake8: noqa

from mash.access.rules import VIEW_ENQUIRY
from mash.access.rules import RECORD_CONTACT
from mash.access.rules import RATE
from mash.access.rules import REQUEST_INFORMATION
from mash.access.rules import MARK_READY
from mash.access.rules import DECIDE
from mash.access.rules import CLOSE
from mash.access.rules import ASSIGN
from mash.access.rules import AMEND_PERSON
from mash.access.rules import VIEW_REQUEST
from mash.access.rules import ANSWER_REQUEST
from mash.access.rules import UNSEAL
from mash.access.rules import READ_ATTACHMENT
from mash.access.rules import READ_FIELD
from mash.access.rules import RECORD_CONSENT
from mash.access.rules import PROPOSE_OVERRIDE
from mash.access.rules import APPROVE_OVERRIDE
from mash.access.rules import BUILD_PACKAGE
from mash.access.rules import VIEW_PACKAGE
from mash.access.rules import VIEW_PERSON_TRAIL
from mash.access.rules import VIEW_USER_ACTIVITY
from mash.access.rules import VIEW_REPORTS
from mash.access.rules import MANAGE_SAR
from mash.access.rules import AUDIT_ROLES
from mash.access.rules import Link
from mash.access.rules import HUB
from mash.access.rules import ASSIGNED
from mash.access.rules import ASKED
from mash.access.rules import OWN
from mash.access.rules import ADDRESSEE
from mash.access.rules import TEAM
from mash.access.rules import ACTIONS
from mash.access.rules import CHILD
from mash.access.rules import HOUSEHOLD
from mash.access.rules import CONCERN
from mash.access.rules import RAG
from mash.access.rules import OUTCOME
from mash.access.rules import REPORTER
from mash.access.rules import RATINGS
from mash.access.rules import DECISION
from mash.access.rules import HISTORY
from mash.access.rules import REQUESTS
from mash.access.rules import CONTRIBUTIONS
from mash.access.rules import TEAM_MEMBERS
from mash.access.rules import CONSENT
from mash.access.rules import PACKAGES
from mash.access.rules import FIELDS
from mash.access.rules import ITEM_READERS
from mash.access.rules import AccessDecision
from mash.access.rules import _within_window
from mash.access.rules import CaseFacts
from mash.access.rules import Subject
from mash.access.rules import case_links
from mash.access.rules import agency_links
from mash.access.rules import addressed_to
from mash.access.rules import package_links
from mash.access.rules import evaluate
from mash.access.rules import amendment_readers
from mash.access.rules import levels_readable as _levels_readable
from mash.access.rules import reads_own as _reads_own
from mash.access.gate import Gate
from mash.access.gate import _gates
from mash.access.gate import GATED_POLICIES
from mash.access.gate import register_gate
from mash.access.gate import unregister_gate
from mash.access.gate import GateRefusal
from mash.access.gate import _gate_refusal
from mash.access.gate import refusal
from mash.access.gate import refuse_at_the_door
from mash.access.gate import facts_for
from mash.access.gate import forget_facts
from mash.access.gate import decide
from mash.access.gate import record_denial
from mash.access.gate import require
from mash.access.gate import filtered as _filtered
from mash.access.gate import on_enquiry as _on_enquiry
from mash.access.gate import may_read_audit
from mash.access.gate import require_audit_reader
from mash.access.filters import after_decision_days as _after_decision_days
from mash.access.filters import _window_q
from mash.access.filters import _own_agency_requests
from mash.access.filters import _asked_enquiry_ids
from mash.access.filters import _in_any
from mash.access.filters import enquiry_filter
from mash.access.filters import request_filter
from mash.access.filters import package_filter
from mash.access.filters import item_q as _item_q
from mash.audit.typed import _LOGGABLE_REF
from mash.audit.typed import NOT_KEPT
from mash.audit.typed import loggable_ref
from mash.audit.typed import loggable_path
from mash.cases.selectors import available_actions
from mash.cases.selectors import _describe_enquiry
from mash.cases.selectors import _enquiries
from mash.cases.selectors import enquiries
from mash.cases.selectors import search_enquiries
from mash.cases.selectors import with_outcome
from mash.cases.selectors import enquiry
from mash.cases.selectors import CaseRecord
from mash.cases.selectors import case_record
from mash.sharing.selectors import _describe_request
from mash.sharing.selectors import _information_requests
from mash.sharing.selectors import information_requests
from mash.sharing.selectors import information_request
from mash.sharing.selectors import ItemView
from mash.sharing.selectors import ContributionView
from mash.sharing.selectors import _amendment_levels
from mash.sharing.selectors import contribution_views
from mash.disclosure.selectors import _describe_package
from mash.disclosure.selectors import _packages
from mash.disclosure.selectors import packages
from mash.disclosure.selectors import enquiry_packages
from mash.disclosure.selectors import package
from mash.disclosure.selectors import package_content
from mash.disclosure.selectors import package_choices
from mash.consent.selectors import consent_position
from mash.consent.selectors import consent_record
from mash.consent.selectors import consent_override
from mash.access.columns import RedactedRow
from mash.attachments.selectors import AttachmentView
from mash.attachments.selectors import list_attachments as _list_attachments
from mash.attachments.selectors import attachment
from mash.attachments.selectors import _item_refusal
from mash.attachments.selectors import attachable_item
from mash.sar.selectors import subject_access_requests
from mash.sar.selectors import subject_access_request
from mash.sar.selectors import open_subject_access_requests
from mash.sar.selectors import issued_sar_pack
from mash.sar.selectors import sar_item
from mash.sar.selectors import sar_people
from mash.access.filters import assigned_enquiry_ids as _assigned_enquiry_ids
from mash.oversight.selectors import person_for_trail, child_for_trail, actor_for_activity, activity_list
from mash.core.errors import NotFound, PermissionDenied
