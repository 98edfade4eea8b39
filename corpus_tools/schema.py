"""The label schema and record shapes: the single source of truth.

Ids here are the ids of `annotation-guidelines.md`; Label Studio configs,
exported datasets, trained models and pre-labels all use exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class MeasureType(StrEnum):
    STUDY_PUBLICITY = "study_publicity"
    RESPONSIBILITY = "responsibility"
    INSTITUTION = "institution"
    RISK_HAZARD = "risk_hazard"
    ENFORCEMENT = "enforcement"
    OVERSIGHT = "oversight"
    TECHNOLOGY = "technology"
    EMERGENCY = "emergency"
    TRAINING = "training"
    OTHER = "other"


MEASURE_TYPE_NAMES_ZH: dict[MeasureType, str] = {
    MeasureType.STUDY_PUBLICITY: "学习宣传与警示教育",
    MeasureType.RESPONSIBILITY: "责任体系与落实",
    MeasureType.INSTITUTION: "体制机制与制度建设",
    MeasureType.RISK_HAZARD: "风险管控与隐患排查治理",
    MeasureType.ENFORCEMENT: "监管执法与打非治违",
    MeasureType.OVERSIGHT: "督查考核与追责问责",
    MeasureType.TECHNOLOGY: "科技信息化与工程治理",
    MeasureType.EMERGENCY: "应急准备与救援处置",
    MeasureType.TRAINING: "培训与能力建设",
    MeasureType.OTHER: "非措施",
}


# What each type takes in, as annotators read it on hover in Label Studio (the
# "包括" column of docs/annotator-guide.md, which a test keeps equal to this).
MEASURE_TYPE_HINTS_ZH: dict[MeasureType, str] = {
    MeasureType.STUDY_PUBLICITY: "学习传达、宣传活动、安全生产月、安全文化、警示教育",
    MeasureType.RESPONSIBILITY: (
        '党政、部门、企业、岗位的安全责任：明确、分解、落实；责任清单、承诺、包保、"三管三必须"'
    ),
    MeasureType.INSTITUTION: "设立机构、协调/工作机制、规章制度标准规划、资金保险赔偿安排",
    MeasureType.RISK_HAZARD: (
        "风险评估与源头管控、监测预警、隐患排查整治、专项整治、治本攻坚、淘汰落后产能"
    ),
    MeasureType.ENFORCEMENT: "监管部门检查执法、联合执法、处罚停产关闭、打击非法违法、规范执法",
    MeasureType.OVERSIGHT: "督查督导、考核评价、通报约谈、事故调查、问责、移送司法",
    MeasureType.TECHNOLOGY: "信息平台、智能监控、数据共享、机械化自动化、安全工程与设施改造",
    MeasureType.EMERGENCY: "预案、救援队伍装备物资、演练、值班值守、信息报告、灾害应对",
    MeasureType.TRAINING: "人员培训考核、技能竞赛、监管队伍能力建设",
    MeasureType.OTHER: "背景、形势、指导思想、目标、原则、没有具体动作的号召、问题陈述",
}


class SpanLabel(StrEnum):
    RESPONSIBLE_BODY = "RESPONSIBLE_BODY"
    DEADLINE = "DEADLINE"
    FREQUENCY = "FREQUENCY"


SPAN_LABEL_NAMES_ZH: dict[SpanLabel, str] = {
    SpanLabel.RESPONSIBLE_BODY: "责任主体",
    SpanLabel.DEADLINE: "时限",
    SpanLabel.FREQUENCY: "频次",
}

# Distinct colours and single-key hotkeys for the Label Studio span labels.
SPAN_LABEL_STYLE: dict[SpanLabel, tuple[str, str]] = {
    SpanLabel.RESPONSIBLE_BODY: ("#1f77b4", "r"),
    SpanLabel.DEADLINE: ("#d62728", "d"),
    SpanLabel.FREQUENCY: ("#2ca02c", "f"),
}


class UnitKind(StrEnum):
    HEADING = "heading"
    BODY = "body"
    META = "meta"


MEASURE_TYPES: tuple[str, ...] = tuple(m.value for m in MeasureType)
SPAN_LABELS: tuple[str, ...] = tuple(s.value for s in SpanLabel)
UNIT_KINDS: tuple[str, ...] = tuple(k.value for k in UnitKind)
# BIO tags for character-level token classification, in a fixed order.
NER_TAGS: tuple[str, ...] = ("O",) + tuple(
    f"{prefix}-{label}" for label in SPAN_LABELS for prefix in ("B", "I")
)


@dataclass(frozen=True, slots=True)
class Unit:
    """One segmented unit of a notice: the record `segment` writes."""

    unit_id: str
    doc_id: str
    unit_index: int
    kind: str
    text: str
    section_path: tuple[str, ...] = ()
    item_responsible_bodies: tuple[str, ...] = ()
    item_parenthetical: str = ""
    title: str = ""
    issuer: str = ""
    doc_number: str = ""
    date: str | None = None
    addressees: tuple[str, ...] = ()
    source_path: str = ""
    # The lead system of a sector sub-plan (教育系统), else the issuer's own field;
    # and the document's genre (年度工作通知, 实施方案, 部门规章 …). Grouped
    # cross-validation holds out whole sectors and issuers by these.
    sector: str = ""
    genre: str = ""

    def to_dict(self) -> dict:
        return {
            "unit_id": self.unit_id,
            "doc_id": self.doc_id,
            "unit_index": self.unit_index,
            "kind": self.kind,
            "text": self.text,
            "section_path": list(self.section_path),
            "item_responsible_bodies": list(self.item_responsible_bodies),
            "item_parenthetical": self.item_parenthetical,
            "title": self.title,
            "issuer": self.issuer,
            "doc_number": self.doc_number,
            "date": self.date,
            "addressees": list(self.addressees),
            "source_path": self.source_path,
            "sector": self.sector,
            "genre": self.genre,
        }

    @classmethod
    def from_dict(cls, row: dict) -> Unit:
        return cls(
            unit_id=row["unit_id"],
            doc_id=row["doc_id"],
            unit_index=int(row["unit_index"]),
            kind=row["kind"],
            text=row["text"],
            section_path=tuple(row.get("section_path") or ()),
            item_responsible_bodies=tuple(row.get("item_responsible_bodies") or ()),
            item_parenthetical=row.get("item_parenthetical") or "",
            title=row.get("title") or "",
            issuer=row.get("issuer") or "",
            doc_number=row.get("doc_number") or "",
            date=row.get("date"),
            addressees=tuple(row.get("addressees") or ()),
            source_path=row.get("source_path") or "",
            sector=row.get("sector") or "",
            genre=row.get("genre") or "",
        )


@dataclass(frozen=True, slots=True)
class Span:
    """A labelled span: `[start, end)` in code points of the unit's text."""

    start: int
    end: int
    label: str
    text: str
    score: float | None = None

    def is_valid_for(self, unit_text: str) -> bool:
        return (
            0 <= self.start < self.end <= len(unit_text)
            and unit_text[self.start : self.end] == self.text
            and self.label in SPAN_LABELS
        )


@dataclass(frozen=True, slots=True)
class UnitAnnotation:
    """One annotator's judgement on one unit (the seed-set JSONL record)."""

    unit_id: str
    measure_type: str
    spans: tuple[Span, ...] = field(default_factory=tuple)
    annotator: str = ""


def dataset_features():
    """The Hugging Face `Features` of an exported dataset (imported lazily)."""
    from datasets import ClassLabel, Features, Sequence, Value

    span = {
        "start": Value("int32"),
        "end": Value("int32"),
        "label": ClassLabel(names=list(SPAN_LABELS)),
        "text": Value("string"),
    }
    return Features(
        {
            "id": Value("string"),
            "doc_id": Value("string"),
            "unit_index": Value("int32"),
            "text": Value("string"),
            "measure_type": ClassLabel(names=list(MEASURE_TYPES)),
            "spans": [span],
            "item_responsible_bodies": Sequence(Value("string")),
            "section_path": Sequence(Value("string")),
            "title": Value("string"),
            "issuer": Value("string"),
            "sector": Value("string"),
            "genre": Value("string"),
            "doc_number": Value("string"),
            "date": Value("string"),
            "annotator": Value("string"),
            "tokens": Sequence(Value("string")),
            "ner_tags": Sequence(ClassLabel(names=list(NER_TAGS))),
        }
    )


# Names of the Label Studio control and object tags. The label config, the
# push, the pull and the export all address results by these names.
LS_TEXT = "text"
LS_MEASURE_TYPE = "measure_type"
LS_SPANS = "spans"
