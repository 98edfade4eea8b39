"""Rule finders for `RESPONSIBLE_BODY`: the sentence subject that must act.

`各级安监部门要认真编制……` → `各级安监部门` (guidelines §3: a subject that
must act counts). The learned tagger often cuts such names short
(`各地人` + `生产委员会` for `各地人民政府安全生产委员会`) when they are longer
than the names it saw in （责任单位：…） lists; the rule reads the whole subject
up to the modal verb. Whether it replaces, complements or overrides the learned
spans is chosen on the validation split (`train.choose_rules`).

Written from the guidelines' examples and the train split's subject bodies,
then corrected where validation errors showed a general gap (`或` lists,
sectors such as `煤矿` are not bodies, duties worded `X对……负总责` or
`X是第一责任人`, `X将……`, `X按照……`). On validation (85 bodies), with the
tagger of `models/prelabel`: learned alone F1 0.75; rule spans first and learned
spans where no rule span overlaps 0.92 (0.86 before the duty wordings).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

# `组织` as a verb (`公司安委会组织开展……`, `组织专家……`), not in an organisation's name
# (`共青团等群团组织`, `群众组织`, `党组织`)
_ORGANISE = r"(?<!群众)(?<!团)(?<!党)组织"

# What a body's name ends with. Sectors (`煤矿`, `非煤矿山`) and places (`各地`)
# are not bodies (guidelines §3), so they are not here.
_BODY_END = re.compile(
    r"(?:部门|政府|单位|企业|委员会|(?:委|协|商|工|学|联)会|总部|党委|党组|委|(?<![布格结])局|"
    r"厅|办|办公室|处|站|(?<![场其])所|队|组|领导|干部|人员|负责人|代表人|正职|副职|一把手|班子|组织|"
    r"媒体|主体|法人|中心|公司|集团|学校|医院|机构|机关|街道办事处|指挥部|院|妇联|共青团|各级|"
    # enterprises' own units and people, ministries (`应急管理部`), `主要负责同志`, and
    # `矿井` of the coal rules (`冲击地压矿井必须……`): actors in the newer genres
    r"同志|助理|党校|工程师|控制人|受托人|所有权人|出租人|承租人|共有人|矿长|经理|主任|总监|班组长|店铺|主力店|商铺|商户|经营者|组织者|承包方|承租方|矿井|(?<![会])社|"
    r"(?<![全内局中东西南北外上下底顶头胸腹])部)$"
)
# The modal or duty verb that follows the subject. `要` inside 主要/重要/需要/要求
# and `应` inside 应急/应用/应对 are not modals; nor is `负责` in `负责人`.
_MODAL = re.compile(
    r"(?:都|均|也|还|更|既)?(?:(?<![主重需纪只])要(?!求|素|点|害|件)|应当|应(?!急|用|对)|必须|须|"
    r"务必|负责(?!人|同志)|(?<!各)牵头|会同|每月|每季|每年|每半年|定期|带头|按规定|按照|依照|依法|(?<!即)将(?![其来])|"
    # a sub-plan or an enterprise rule states the duty with the verb alone:
    # `应急管理部每年举办……`, `事故现场有关人员立即报告……`, `公司安委会组织举办……`
    r"立即|及时|每天|每日|每周|亲自|" + _ORGANISE + r"(?=开展|举办|实施|制定|编制|召开|有关|专家)|"
    r"加强|加大|严格|认真|切实|全面|持续|积极|主动|举办|听取|建立|健全|制定|做好|开展|"
    r"(?<![贯])落实|深化|推进|强化|成立|推行|设立|制订|开设|适时|挂牌|对照|采用|(?<!组织)推动|进行|组建|侧重|依托|根据|"
    # `X对本单位安全生产工作全面负责`, `X对……负总责`: the duty closes the clause
    r"承担|承接|不得|严禁|原则上|因地制宜|(?<![要])坚持|依据|重点(?=针对|抓好|做好)|充分发挥|有效(?=应用|落实)|(?<!要)针对|(?<!城乡)结合(?!部|(?:工作)?实际制定本)|聚焦|综合运用|绝不|全部(?=落实|完成|达到|建立|实现)|"
    r"(?<![针相绝面应反核])对(?=[^，,；;。]{1,40}?(?:负(?:总|全面|主要|直接|全部)?责(?!人)|负有|承担[^，,；;。]{0,6}责任))|"
    # a regulation's regulator: `X对煤矿……实施监察`, `X发现……的，应当责令……`, `X审查……`
    r"(?<![针相绝面应反核])对(?=[^，,；;。]{1,40}?(?:实施[^，,；;。]{0,4}?(?:监察|监督管理|监督检查)|进行(?:监督|检查|验收|审查)|给予(?:警告|奖励|表彰|[行纪]?[政律]?处分)))|"
    r"(?<![被未])发现|审查(?!批准)|" + _ORGANISE + r"调查|"
    # a law's duty and right wordings: `X负有下列职责`, `X依法享有……`, `X协助主要负责人……`,
    # `X在各自职责范围内……`, `X接到报告后，应当……`
    r"负有(?![^，,；;。]{0,20}?(?:职责|职能|责任)的)|享有|(?<![配])协助(?=[^，,；;。]{0,12}(?:负责人|履行|做好|开展))|在各自(?:的)?职责范围内|接到|"
    # `X是/为/作为安全生产第一责任人`, `X是安全生产的责任主体`
    r"(?:是|为|作为)(?=[^，,；;。]{0,16}?(?:第一责任人|责任主体|负责人|责任人|的主体|实施机关))|"
    # `国务院统一领导……`, `分管安全生产工作的负责人综合负责……`
    r"统一领导|综合负责)"
)
# `由 X 承担/负责……`: X carries the duty.
_BY_MODAL = re.compile(
    r"承担|负责(?!人|同志)|牵头|会同|组织|明确|对|责令|给予|决定|吊销|颁发|补发|依照|制定|规定|确定|"
    r"(?<!之)处(?=\d|[一二三四五六七八九十])"
)
# A subject that holds one of these is a verb phrase or an adverbial, not a name.
_NOT_A_NAME = re.compile(
    r"加强|加大|完善|建立|健全|发动|"
    + _ORGANISE
    + r"|开展|鼓励|引导|支持|推动|督促|指导|拓展|涉及跨|实施|落实|"
    r"推进|强化|深化|提升|提高|发挥|注重|坚持|按照|根据|围绕|通过|结合|^[对将把在为从向以]|"
    r"^每|跨部门|力争|确保|学习|贯彻|(?<!尤其|特别)是|"
    # `配合/协助 X`: X is helped, not the body (hard-calls A#13); the rest are verbs
    r"配合|协助|明确|要求|利用|部署|查清|针对|组建|扶持|督导|协调|实时|率先|^(?:监督|会同|联合|倒逼|促进|运用|发挥)|"
    r"(?<![自理缘经])由(?![于此])|未经|^经(?!营|理|济|费)|"
    # a law's clauses: `委托/聘请 X` (guide § 12), `责令 X` (the one penalised), `任何单位`,
    # `可以……`, `未对……`, `实行……`
    r"委托|聘请|指派|责令|^任何|可以|^未|实行|属于"
)
# `鼓励/引导/支持 X`: X is only encouraged, not a body (guidelines' settled cases):
# the verb, then at most a list of other names in the same clause, right before X.
# The verb opens its clause or follows an adverb or a joiner, so `技术支持中心` and
# `物资装备支持（…）` are names and nouns, not the verb; `督促/指导/推动` before it
# win (`督促引导企业落实……`: the guidelines label X).
_ENCOURAGED = re.compile(
    r"(?:^|[，,；;。：:\s]|(?<!督促)(?<!指导)(?<!推动)[和、及与并]|积极|大力|继续|充分|广泛|进一步|"
    r"(?<!督促)(?<!指导)(?<!推动)(?:鼓励|引导))"
    r"(?:鼓励|引导|支持)\s*(?:[^，,；;。：:！？!?（）()]{0,30}?[、和及与]\s*)?$"
)
# The verbs that set another body to work (`督促企业……`), and the first act the
# body is then told to do, which ends its name.
_DIRECTS = re.compile(
    r"(?:推动|督促|督导|指导|"
    + _ORGANISE
    + r"|会同|联合|协调|促进|倒逼|部署|监督(?!管理)|要求|发挥|(?<![自理缘经])由(?![于此])|移送)+"
)
_ACT = re.compile(
    r"(?<![主重需纪只])要(?!求|素|点|害|件)|应当|应(?!急|用|对)|必须|[对按每将把向从]|(?<!所)在|以(?![上下内外来后前])|定期|"
    r"集中|统一|共同|分级|逐步|立即|及时|严格|认真|切实|全面|进一步|持续|积极|主动|"
    r"深入|加强|加大|开展|落实|建立|健全|完善|制定|做好|深化|推进|强化|提升|提高|安装|配备|建成|"
    r"实施|研究|排查|整治|整改|编制|履行|做到|规范|根据|结合|聚焦|坚持|抓好|确保|用好|针对|围绕|"
    r"完成|参加|上报|报送|设置|采取|压实|依法|依规|发挥|保障|防范|严防|杜绝|淘汰|推广|配齐|配强|"
    r"构建|形成|明确|检查|巡查|培训|演练|学习|宣传|贯彻|督促|指导|推动|"
    + _ORGANISE
    + r"|召开|遵守|做实|落细|"
    r"加快|紧密|上好|改进|提前|适时|采用|推行|设立|制订|开设|彻底|夯实|依托|持证|"
    r"自主|自行|抓紧|尽快|随时|紧盯|制作|安全生产标准化|"
    # `重点` opens the act as an adverb (`联合发改、能源等部门重点组织开展……`), not as a
    # noun's modifier (`督促重点企业……`)
    r"重点(?=组织|开展|排查|检查|整治|督导|推进|加强|围绕|针对|做好|抓好|聚焦|防范|做实)|"
    # adverbs of manner: `督促企业不断提高……`, `督促学校层层夯实……`
    r"不断|层层(?!分包|转包)|逐级|"
    # a regulation's penalty and licensing clauses: `由 X 责令/给予/决定/处……`
    r"责令|给予|决定|吊销|颁发|补发|依照|确定|(?<!之)处(?=\d|[一二三四五六七八九十])|商(?=国务院|有关)|移送|会同|"
    r"负责(?!人|同志)|承担|牵头|(?:的)?(?:作用|优势|专业特长)"
)
_LEAD_IN = re.compile(
    r"^\s*(?:\d+[.．、]\s*|\d{4}\s*年(?:起|以来)?\s*|[（(][一二三四五六七八九十\d]+[）)]\s*|[一二三四五六七八九十]+、\s*|"
    r"第[一二三四五六七八九十百零]+条\s*|同时|并且|并|另外|此外|其中|特别是|尤其是|重点是)"
)
_LIST_SEP = re.compile(
    r"、|尤其是|特别是|以及|及(?!其|以[上下])|与|或者|或|(?<=[局委办会府门位业构队织])和(?!信息化)|"
    # `X机构及其Y人员` names two bodies; `X政府及其(有关)部门……` one (its own departments)
    # (`X政府及其负有……职责的部门`: a department the law names by its duty, two bodies)
    r"(?<=[局委办会府门位业构队])及其(?!(?!负有)[^，,；;。、]{0,16}?部门|所属|下属|职责|(?:工作)?人员)"
)
_ETC = re.compile(
    r"等(?:有关|相关|其他)?(?:部门|单位|机关|机构|成员单位|群团组织|群众组织)$|(?:有关部门)?等$"
)
_DEPARTMENT_LIST = re.compile(r"等(?:有关|相关)?(?:部门|群团组织|群众组织)$")
_TRAILING_BRACKET = re.compile(r"[（(][^（）()]*[）)]$")
_CLAUSE_END = frozenset("，,；;。：:！？!?")
_OPENERS = frozenset("（(《“【〔")
_CLOSERS = frozenset("）)》”】〕")
_MAX_SUBJECT = 40


def clauses(text: str) -> Iterator[tuple[int, int]]:
    """`[start, end)` of each clause: text between clause punctuation outside brackets."""
    depth = start = 0
    for index, ch in enumerate(text):
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0 and ch in _CLAUSE_END:
            yield start, index
            start = index + 1
    yield start, len(text)


@lru_cache(maxsize=8)
def _clause_bounds(text: str) -> tuple[tuple[int, int], ...]:
    """`clauses` of a text, kept for the next finder reading the same unit."""
    return tuple(clauses(text))


# `学校在暑假、寒假前应当……`: when the duty falls is no part of who holds it
_WHEN = re.compile(r"在[^，,；;。在]{1,20}?(?:前|后|时|期间|之际)$")
# `X（以下简称Y）`: the name a law gives X for short is no part of it
_ALIAS_NOTE = re.compile(r"\s*[（(]以下(?:简|统)?称[^（）()]*[）)]\s*$")


def find_subject_bodies(text: str) -> Iterator[tuple[int, int]]:
    """`[start, end)` of each body that is the subject of a modal or duty verb."""
    for clause_start, clause_end in _clause_bounds(text):
        clause = text[clause_start:clause_end]
        lead = _LEAD_IN.match(clause)
        offset = lead.end() if lead else 0
        if clause[offset : offset + 1] in _OPENERS:
            continue  # a responsibility parenthetical: `find_parenthetical_bodies` reads those
        by = clause.startswith("由", offset)
        offset += by
        modal = (_BY_MODAL if by else _MODAL).search(clause, offset)
        if modal is None or modal.start() == offset:
            continue
        subject = _WHEN.sub("", _ALIAS_NOTE.sub("", clause[offset : modal.start()]))
        if len(subject) > _MAX_SUBJECT or _NOT_A_NAME.search(subject):
            continue
        for start, end in _names(subject):
            yield clause_start + offset + start, clause_start + offset + end


# A law states a duty after its condition: `生产经营单位发生生产安全事故后，应当……`,
# `生产经营单位出租厂房……的，……应当……`. The condition's clause opens with the body.
_CONDITION_END = re.compile(r"(?:的|时|后|前|期间)$")
_NEXT_MODAL = re.compile(
    r"\s*(?:并|还|也|均|都)?(?:应当|应(?!急|用|对)|必须|须|不得|(?<![主重需])要(?!求))"
)
_NOT_NAME_TAIL = frozenset("的和及与、或（(以等级")
# the names a condition opens with: organisations and posts, not a bare `部`/`所`/`局`
# that a longer word carries (`考核部门`, `操作证所记载`)
_CONDITIONED_END = re.compile(
    r"(?:单位|企业|部门|机构|机关|人员|负责人|政府|委员会|公司|集团|学校|幼儿园|医院|中心|"
    r"承办者|管理者|经营者|所有权人|出租人|承租人|矿井)$"
)
_MAX_CONDITIONED = 25


def find_conditioned_subjects(text: str) -> Iterator[tuple[int, int]]:
    """`[start, end)` of a body that opens a condition its duty follows: `X 发生/使用/
    出租……的，应当……` → X (the shortest name at the clause's start)."""
    bounds = _clause_bounds(text)
    for (clause_start, clause_end), (next_start, _) in pairwise(bounds):
        clause = text[clause_start:clause_end]
        if not _NEXT_MODAL.match(text, next_start):
            continue
        lead = _LEAD_IN.match(clause)
        offset = lead.end() if lead else 0
        named = clause[offset:].strip()
        if not _CONDITION_END.search(clause):
            # `高危行业的生产经营单位，应当……`: the clause is the name itself
            if (
                "的" in named
                and _BODY_END.search(named)
                and not _NOT_A_NAME.search(named)
                and not named.startswith(("具有", "涉及"))
            ):
                for start, stop in _names(named):
                    yield clause_start + offset + start, clause_start + offset + stop
                continue
            if _MODAL.search(clause, offset):
                continue  # a duty of its own: `find_subject_bodies` reads it
        for end in range(offset + 2, min(len(clause), offset + _MAX_CONDITIONED)):
            if clause[end] in _NOT_NAME_TAIL or not _CONDITIONED_END.search(clause, offset, end):
                continue
            # `……管理机关工作人员`: a post of the body is the longer name
            longer = [
                stop
                for stop in range(end + 2, min(len(clause), end + 5) + 1)
                if _CONDITIONED_END.search(clause, offset, stop)
            ]
            end = longer[-1] if longer else end
            subject = clause[offset:end]
            if not _NOT_A_NAME.search(subject):
                for start, stop in _names(subject):
                    yield clause_start + offset + start, clause_start + offset + stop
            break


def find_object_bodies(text: str) -> Iterator[tuple[int, int]]:
    """`[start, end)` of each body that a directive verb sets to work: `推动/督促/指导 X
    做 Y` (guidelines' settled cases), `组织/会同/联合/监督 X 做 Y` (annotator guide
    § 岗位责任制). X runs from the verb to the first act it is told to do."""
    if _DIRECTS.search(text) is None:  # two units in three: nothing to read
        return
    for clause_start, clause_end in _clause_bounds(text):
        clause = text[clause_start:clause_end]
        for directive in _DIRECTS.finditer(clause):
            rest = clause[directive.end() :]
            act = _ACT.search(rest)
            if act is None or act.start() < 2:
                continue
            subject = rest[: act.start()]
            if len(subject) > _MAX_SUBJECT or _NOT_A_NAME.search(subject):
                continue
            offset = clause_start + directive.end()
            for start, end in _names(subject):
                yield offset + start, offset + end


# `压实/落实 X（的）主体责任`: X holds the duty (`严格落实建设单位首要责任`,
# `压紧压实地质勘查、测绘单位安全生产主体责任`); `落实……责任制` names a system, not a holder.
_DUTY_KIND = (
    r"(?:的)?(?:安全生产|消防安全|质量安全|安全)?"
    r"(?:主体|首要|属地|监管|领导|全员|直接|管理|督促|行业监管|属地监管|属地管理|运行管理|监督管理)?"
    r"责任(?!制|清单|险|保险|链|人|书|体系|意识)"
)
_DUTY_HELD = re.compile(
    r"(?:压紧压实|压实|落实|突出|强化|夯实)好?((?!主体|领导)[^，,；;。：:《“]{2,24}?)" + _DUTY_KIND
)
# the next holder of a list of duties: `压实政府督促责任、部门监管责任和企业主体责任`
_NEXT_DUTY = re.compile(r"(?:、|和|及|以及)((?!主体|领导)[^，,；;。：:《“、]{2,24}?)" + _DUTY_KIND)


def find_duty_holders(text: str) -> Iterator[tuple[int, int]]:
    """`[start, end)` of each body whose duty is pressed home: `压实企业主体责任` → `企业`."""
    if "责任" not in text:
        return
    for duty in _duties(text):
        holder = duty.group(1)
        if _NOT_A_NAME.search(holder) or _inside_brackets(text, duty.start(1)):
            continue
        # `地质勘查、测绘单位`: a list of fields closed by one body noun is one name
        if _BODY_END.search(holder) and not _BODY_END.search(_LIST_SEP.split(holder)[0]):
            yield duty.start(1), duty.end(1)
            continue
        for start, end in _names(holder):
            yield duty.start(1) + start, duty.start(1) + end


def _duties(text: str) -> Iterator[re.Match[str]]:
    """Each `_DUTY_HELD` match, then the holders listed after it."""
    for duty in _DUTY_HELD.finditer(text):
        yield duty
        following = _NEXT_DUTY.match(text, duty.end())
        while following is not None:
            yield following
            following = _NEXT_DUTY.match(text, following.end())


def only_encouraged(text: str, start: int) -> bool:
    """Whether a body starting at `start` is the object of `鼓励/引导/支持`
    (`积极支持工会、妇联、共青团等群众团体……`), which the guidelines leave unlabelled."""
    if _inside_brackets(text, start):
        return False  # a closing `（责任单位：…）` names who is responsible
    return _ENCOURAGED.search(text, max(0, start - 40), start) is not None


def _names(subject: str) -> Iterator[tuple[int, int]]:
    """Each body in a subject list, `等部门` and the like left out."""
    pieces, position = [], 0
    for separator in _LIST_SEP.finditer(subject):
        if _inside_brackets(subject, separator.start()):
            continue  # `各县（市、区）政府` is one name
        pieces.append((position, separator.start()))
        position = separator.end()
    pieces.append((position, len(subject)))
    pieces = join_levels(subject, pieces)
    last = subject[pieces[-1][0] :]
    if "等" in last and not _ETC.search(last) and _BODY_END.search(last):
        pieces = [(0, len(subject))]  # `非煤矿山、危险化学品等高危行业企业` is one name
    # `应急、能源、税务等部门`: a list closed by `等部门` names departments by their
    # field alone, and each counts
    departments = _DEPARTMENT_LIST.search(last) is not None
    if (
        not departments
        and len(pieces) > 1
        and _BODY_END.search(last)
        and not any(_BODY_END.search(subject[a:b].strip()) for a, b in pieces[:-1])
        and "的" in last
        and all(b - a >= 2 for a, b in pieces[:-1])
        and not any(subject[a:b].strip().startswith(("各", "与")) for a, b in pieces)
        and "地" not in subject[pieces[0][0] : pieces[-1][0]]
    ):
        # `生产、储存、使用危险化学品的单位`: activities sharing one body noun
        pieces = [(pieces[0][0], len(subject))]
    for start, end in pieces:
        name = _ETC.sub("", subject[start:end]).strip()
        if name.startswith("其") and not name.startswith(("其他", "其所")) and len(name) > 3:
            name = name[1:]  # `其主要负责人`: the pronoun points back, the post is the body
        lead = subject.find(name, start)
        core = _TRAILING_BRACKET.sub("", name)  # `各省级应急管理厅（局）`
        if len(core) >= 2 and (departments or _BODY_END.search(core)):
            yield lead, lead + len(name)


# `各市、县人民政府`, `省、市、县三级`: a bare administrative level names no body by
# itself; it shares the next piece's noun
ADMIN_LEVEL = re.compile(r"^\s*各?(?:省|市|县|区|乡|镇|乡镇|市州|地市)\s*$")


def join_levels(text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge each bare administrative level with the piece after it."""
    joined: list[tuple[int, int]] = []
    for start, end in pieces:
        if joined and ADMIN_LEVEL.match(text[joined[-1][0] : joined[-1][1]]):
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _inside_brackets(text: str, position: int) -> bool:
    head = text[:position]
    return sum(head.count(ch) for ch in _OPENERS) > sum(head.count(ch) for ch in _CLOSERS)


# ---------------------------------------------------------------- names

# `data/body-aliases.csv` (`alias,canonical`): short and long names of one body,
# so a count of who is named does not split `市应急局` from `市应急管理局`.
DEFAULT_BODY_ALIASES = Path(__file__).resolve().parent.parent / "data" / "body-aliases.csv"


def body_key(name: str) -> str:
    """A body name as compared: NFKC (full-width brackets and digits folded), no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


@dataclass(frozen=True, slots=True)
class BodyAliases:
    """Alias → canonical name (keys through `body_key`), and the files they came from."""

    table: dict[str, str]
    sources: tuple[Path, ...]

    def normalise(self, name: str) -> str:
        key = body_key(name)
        return self.table.get(key, key)


def load_body_aliases(
    extra: Iterable[Path | str] = (), *, default: Path | None = DEFAULT_BODY_ALIASES
) -> BodyAliases:
    """The default alias table, then each `extra` CSV (`alias,canonical`; a later
    row for the same alias wins). Chains (`a→b`, `b→c`) resolve to the end."""
    table: dict[str, str] = {}
    sources = tuple(Path(p) for p in ((default,) if default else ()) + tuple(extra))
    for path in sources:
        table |= _alias_rows(path)
    resolved = {
        alias: _follow(alias, table, path=sources[-1] if sources else None) for alias in table
    }
    return BodyAliases({a: c for a, c in resolved.items() if a != c}, sources)


def _alias_rows(path: Path) -> dict[str, str]:
    from corpus_tools.errors import ReportError

    if not path.is_file():
        raise ReportError(
            f"{path}: alias table does not exist; give a CSV with columns alias,canonical"
        )
    rows: dict[str, str] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["alias", "canonical"]:
            raise ReportError(
                f"{path}: line 1 should be the header `alias,canonical` (got {header!r})"
            )
        for number, row in enumerate(reader, 2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < 2 or not row[0].strip() or not row[1].strip():
                raise ReportError(
                    f"{path}: line {number} should be `alias,canonical`, both names given (got {row!r})"
                )
            rows[body_key(row[0])] = body_key(row[1])
    return rows


def _follow(alias: str, table: dict[str, str], *, path: Path | None) -> str:
    from corpus_tools.errors import ReportError

    seen = [alias]
    name = table[alias]
    while name in table and table[name] != name:
        if name in seen:
            raise ReportError(
                f"{path}: aliases go round in a circle ({' → '.join(seen + [name])}); "
                "make one of them the canonical name"
            )
        seen.append(name)
        name = table[name]
    return name
