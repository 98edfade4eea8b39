"""Rule finders for RESPONSIBLE_BODY: sentence subjects that must act, and the
`override` mode that lets a rule's whole name win over a learned fragment."""

import pytest
import spacy

from corpus_tools.bodies import (
    clauses,
    find_object_bodies,
    find_subject_bodies,
    only_encouraged,
)
from corpus_tools.model import RuleSpans, find_rule_bodies


def subjects(text: str) -> list[str]:
    return [text[start:end] for start, end in find_subject_bodies(text)]


@pytest.mark.parametrize(
    ("text", "bodies"),
    [
        # guidelines §3 examples
        ("各级安监部门要认真编制应急预案。", ["各级安监部门"]),
        ("企业要加大安全投入。", ["企业"]),
        ("各级各部门要切实加强领导。", ["各级各部门"]),
        # lists: each body on its own, role words and places left out
        ("各地区、各部门要认真贯彻落实。", ["各部门"]),
        (
            "乡（镇）人民政府、街道办事处、开发区管理机构等机关要依法履行职责。",
            ["乡（镇）人民政府", "街道办事处", "开发区管理机构"],
        ),
        ("由原企业法人或新设立企业法人承担安全生产主体责任。", ["原企业法人", "新设立企业法人"]),
        ("地方各级人民政府及其有关部门要落实属地责任。", ["地方各级人民政府及其有关部门"]),
        ("非煤矿山、危险化学品等高危行业企业要达到标准。", ["非煤矿山、危险化学品等高危行业企业"]),
        # `要` in 主要, `应` in 应急 are not modals
        ("企业主要负责人要带头落实全员安全生产责任制。", ["企业主要负责人"]),
        (
            "应急管理部门要加强综合监管，各级人民政府每季度召开一次会议。",
            ["应急管理部门", "各级人民政府"],
        ),
        # not bodies: sectors, targets of the action, verb phrases, parentheticals
        ("煤矿要深入贯彻落实有关规定。", []),
        ("对高危企业的执法检查要常态化。", []),
        ("加强以气象灾害预警为先导的多部门应急响应联动。", []),
        ("加强执法检查。（省应急厅、省公安厅负责）", []),
        ("2025年年底前完成全部整治任务。", []),
        # a duty worded `X对……负（总）责` or `X是/为/作为……第一责任人/责任主体`
        ("企业法定代表人必须对本单位的安全生产全面负责。", ["企业法定代表人"]),
        (
            "地方各级人民政府主要负责人是安全生产第一责任人，对本地区安全生产工作负总责。",
            ["地方各级人民政府主要负责人"],
        ),
        ("企业是安全生产的责任主体。", ["企业"]),
        ("企业对本单位安全生产工作负全面责任。", ["企业"]),
        ("主要负责人作为第一责任人对本单位安全生产工作全面负责。", ["主要负责人"]),
        # `对` that opens a target, and `负责人`, are not that duty
        ("对重大隐患要挂牌督办、专人负责。", []),
        ("把对企业主要负责人培训情况作为检查内容。", []),
        # future-tense duties and `按照……` after the subject
        ("国务院安委会办公室将成立工作专班。", ["国务院安委会办公室"]),
        ("各省级安委会负责制定三年行动方案。", ["各省级安委会"]),
        (
            "国务院安委会有关成员单位按照“管行业必须管安全”原则制定子方案。",
            ["国务院安委会有关成员单位"],
        ),
        ("电力企业总部要加强对下属企业的督促指导。", ["电力企业总部"]),
        # `尤其是` joins a list; it is not the copula `是`
        ("各级、各部门尤其是各级领导干部要认真学习。", ["各级", "各部门", "各级领导干部"]),
        # townships and layouts are places or things, not bodies; `每组` is no name
        ("乡镇要设立安监站。", []),
        ("城乡规划布局要科学合理。", []),
        ("每组负责一个片区。", []),
        ("各牵头部门要及时召开联席会议。", ["各牵头部门"]),
        # newer genres: articles, duties stated with the verb alone, ministries, enterprises
        ("第十九条   生产经营单位应当编制应急处置卡。", ["生产经营单位"]),
        ("（三）市应急局要加强指导。", ["市应急局"]),
        ("应急管理部每年举办执法骨干培训班。", ["应急管理部"]),
        ("4. 发生事故后，事故现场有关人员立即报告负责人。", ["事故现场有关人员"]),
        ("各部门、各店铺要结合节日特点，加强风险研判。", ["各部门", "各店铺"]),
        ("铁路行业各单位主要负责同志要亲自召开专题会议。", ["铁路行业各单位主要负责同志"]),
        ("煤矿企业总工程师是冲击地压防治的技术负责人。", ["煤矿企业总工程师"]),
        ("工业和信息化部每年选取重点省市开展指导。", ["工业和信息化部"]),
        ("应急、能源、税务等部门要开展联合执法。", ["应急", "能源", "税务"]),
        # `配合/协助 X`: X is helped, not the body (annotator guide); `全部` is no ministry
        ("配合有关部门加强农村群众出行服务保障。", []),
        ("全部要落实到位。", []),
    ],
)
def test_subject_bodies(text, bodies):
    assert subjects(text) == bodies


@pytest.mark.parametrize(
    ("text", "bodies"),
    [
        # guidelines' settled case `推动/督促/指导 X 做 Y`, and `组织/会同/由 X …`
        ("督促企业定期开展应急疏散演练。", ["企业"]),
        ("指导各地自然资源主管部门持续做好地质勘查工作。", ["各地自然资源主管部门"]),
        ("推动中央企业深化隐患攻坚。", ["中央企业"]),
        ("督促省级民爆行业主管部门对基层监管人员开展培训。", ["省级民爆行业主管部门"]),
        ("会同中央党校集中开展专题培训。", ["中央党校"]),
        ("高危工艺的一律由省级应急管理部门组织实施。", ["省级应急管理部门"]),
        ("3. 监督经营商户严格遵守各项安全生产管理规定。", ["经营商户"]),
        ("督促学校、养老院、医疗机构等加强消防安全管理。", ["学校", "养老院", "医疗机构"]),
        # `联合 X、Y等部门` (annotator guide § 7) before an adverb of the act; adverbs of
        # manner; `X等群团组织` lists organisations, and `组织` in their name is no act
        ("联合住建、商务、市场监管等部门重点组织开展燃气安全培训。", ["住建", "商务", "市场监管"]),
        ("督促企业不断提高本质安全水平。", ["企业"]),
        ("督促学校层层压实安全责任。", ["学校"]),
        ("发挥工会、妇联、共青团等群众组织在隐患举报中的作用。", ["工会", "妇联", "共青团"]),
        ("发挥工青妇等群团组织作用，加强班组安全管理。", ["工青妇"]),
        ("督促重点企业落实全员安全生产责任制。", ["重点企业"]),
        ("发挥各级党组织和群众组织作用。", ["各级党组织", "群众组织"]),
        # `发动群众组织……` and `层层分包的……` read no body into the act
        ("督促村委会发动群众组织开展隐患排查。", []),
        ("督促施工单位层层分包的工程项目开展自查。", []),
        # no name before the act, or a thing rather than a body
        ("组织开展安全生产执法检查。", []),
        ("推动建立补偿资金机制。", []),
        ("由于天气原因，企业要停工。", []),
    ],
)
def test_object_bodies(text, bodies):
    assert [text[s:e] for s, e in find_object_bodies(text)] == bodies


def test_parenthetical_drops_etc_with_its_qualifier():
    text = "依法追究法律责任。(市安委办、市纪委监委等有关部门负责)"
    assert [text[s:e] for s, e in find_rule_bodies(text)] == ["市安委办", "市纪委监委"]


def test_clauses_do_not_cut_inside_brackets():
    text = "各县（市、区）政府要落实，企业要整改。"
    assert [text[s:e] for s, e in clauses(text)] == ["各县（市、区）政府要落实", "企业要整改", ""]
    assert subjects(text) == ["各县（市、区）政府", "企业"]


def test_rule_bodies_take_parenthetical_and_subject_without_overlap():
    text = "各级应急管理部门要开展检查。（省应急厅、省消防救援总队负责）"
    found = [text[s:e] for s, e in find_rule_bodies(text)]
    assert found == ["省应急厅", "省消防救援总队", "各级应急管理部门"]


def _doc_with_learned(text: str, learned: list[tuple[str, str]]):
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    doc = nlp(text)
    ents = []
    for piece, label in learned:
        start = text.index(piece)
        ents.append(doc.char_span(start, start + len(piece), label=label))
    doc.ents = ents
    return doc


def test_override_replaces_a_learned_fragment_with_the_whole_name():
    text = "各地人民政府安全生产委员会要加强协调，每月召开一次会议。"
    learned = [
        ("各地人", "RESPONSIBLE_BODY"),
        ("生产委员会", "RESPONSIBLE_BODY"),
        ("每月", "FREQUENCY"),
    ]
    rule = RuleSpans("rules", replace=[], add=[], rule_score=0.9, override=["RESPONSIBLE_BODY"])
    doc = rule(_doc_with_learned(text, learned))
    assert sorted((e.text, e.label_) for e in doc.ents) == [
        ("各地人民政府安全生产委员会", "RESPONSIBLE_BODY"),
        ("每月", "FREQUENCY"),
    ]


def test_add_keeps_the_learned_fragment():
    text = "各地人民政府安全生产委员会要加强协调。"
    rule = RuleSpans("rules", replace=[], add=["RESPONSIBLE_BODY"], rule_score=0.9)
    doc = rule(_doc_with_learned(text, [("生产委员会", "RESPONSIBLE_BODY")]))
    assert [e.text for e in doc.ents] == ["生产委员会"]


def test_override_keeps_learned_spans_no_rule_covers():
    text = "加强协调，确保有关方面落实主体责任。"  # no rule finds a body here
    assert list(find_rule_bodies(text)) == []
    rule = RuleSpans("rules", replace=[], add=[], rule_score=0.9, override=["RESPONSIBLE_BODY"])
    doc = rule(_doc_with_learned(text, [("有关方面", "RESPONSIBLE_BODY")]))
    assert [e.text for e in doc.ents] == ["有关方面"]


@pytest.mark.parametrize("options", [{}, {"override": ["RESPONSIBLE_BODY"]}])
def test_bodies_only_encouraged_are_dropped_and_others_kept(options):
    # guidelines' settled cases: `鼓励/引导/支持 X` leaves X unlabelled; `推动 X 做 Y` labels X
    text = "积极支持工会、妇联、共青团等群众团体开展活动，推动企业落实主体责任，每月检查。"
    learned = [
        ("工会", "RESPONSIBLE_BODY"),
        ("妇联", "RESPONSIBLE_BODY"),
        ("共青团", "RESPONSIBLE_BODY"),
        ("企业", "RESPONSIBLE_BODY"),
        ("每月", "FREQUENCY"),
    ]
    rule = RuleSpans("rules", replace=[], add=[], rule_score=0.9, **options)
    doc = rule(_doc_with_learned(text, learned))
    assert sorted(e.text for e in doc.ents) == ["企业", "每月"]


@pytest.mark.parametrize(
    ("text", "body", "encouraged"),
    [
        ("鼓励和引导各地、各部门、各企业创新工作思路。", "各企业", True),
        ("支持各级工会开展群众性安全活动。", "各级工会", True),
        ("积极支持 工会、妇联开展活动。", "妇联", True),  # a stray space from a PDF
        ("督促指导企业落实主体责任。", "企业", False),
        ("支持保障到位，市应急局要牵头。", "市应急局", False),
        # `督促/指导/推动 X` labels X, also with an encouraging verb after it
        ("督促引导企业落实安全生产主体责任。", "企业", False),
        ("督促和引导企业落实安全生产主体责任。", "企业", False),
        ("指导和支持企业开展隐患排查。", "企业", False),
        # a noun or part of a name, not the verb
        ("市应急局、市安全生产技术支持中心和市消防救援支队要每月检查。", "市消防救援支队", False),
        ("强化政策支持：市财政局、市应急局要加大投入。", "市应急局", False),
        # the bodies of a closing responsibility parenthetical
        ("加大资金支持（责任单位：市财政局、市应急局、市发展改革委）", "市应急局", False),
        ("强化物资装备支持(县财政局、县应急局负责)", "县应急局", False),
        ("加强宣传引导（市委宣传部、市应急局、各区县政府负责）", "各区县政府", False),
    ],
)
def test_only_encouraged(text, body, encouraged):
    assert only_encouraged(text, text.index(body)) is encouraged


@pytest.mark.parametrize(
    ("text", "bodies"),
    [
        # the duty pressed home names its holder (a list of fields closed by one noun is one name)
        ("严格落实建设单位首要责任，深入排查整治转包问题。", ["建设单位"]),
        ("压紧压实地质勘查、测绘单位安全生产主体责任。", ["地质勘查、测绘单位"]),
        # a duty system or a bare `主体责任` names nobody
        ("认真落实行政执法责任制，关口前移。", []),
        ("督促运输企业落实主体责任。", ["运输企业"]),
        # more verbs that set a body to work, and more duty verbs after a subject
        ("督导电力企业认真落实大坝安全提升专项行动重点任务。", ["电力企业"]),
        ("督促企业加快整改进度。", ["企业"]),
        ("指导旅行社做好包车安全管理。", ["旅行社"]),
        ("国务院国资委适时联合有关部门开展督导检查。", ["国务院国资委", "有关部门"]),
        # a bare administrative level shares the next piece's noun
        (
            "整体提升矿山安全生产水平。（省安委办和各市、县人民政府负责）",
            ["省安委办", "各市、县人民政府"],
        ),
    ],
)
def test_more_rule_bodies(text, bodies):
    assert sorted(text[s:e] for s, e in find_rule_bodies(text)) == sorted(bodies)


@pytest.mark.parametrize(
    ("text", "bodies"),
    [
        # a subject carries a duty with verbs other than the modals: 针对/结合/承担/不得/是…的主体
        ("各企事业单位针对本单位易发灾害事故开展演练。", ["各企事业单位"]),
        ("各行业领域企业结合实际，建立视频监控系统。", ["各行业领域企业"]),
        ("企业主要负责人、实际控制人承担安全生产第一责任。", ["企业主要负责人", "实际控制人"]),
        ("严重冲击地压矿井不得开采孤岛煤柱。", ["严重冲击地压矿井"]),
        ("企业是安全生产的主体。", ["企业"]),
        ("各职能部门既要各司其职，又要协同配合。", ["各职能部门"]),
        # the plan's own issuer adapting it is not a duty; nor is a 城乡结合部
        ("按照总体要求，国家能源局结合工作实际制定本方案。", []),
        # a single field closed by `等部门` is a body, as in a list
        ("会同住房城乡建设等部门开展校园工程质量检查。", ["住房城乡建设"]),
        # `督促 X 落实` closes a responsibility parenthetical
        (
            "严格全员遵规守纪。（负有安全监管职责的部门督促企业落实）",
            ["负有安全监管职责的部门", "企业"],
        ),
        # the holders listed after the first pressed-home duty
        (
            "压紧压实政府督促责任、部门监管责任和企业主体责任。",
            ["政府", "部门", "企业"],
        ),
        # adverbs that open the act a body is set to
        ("督促企业自主开展全过程隐患排查。", ["企业"]),
        ("持续推动规模以上企业安全生产标准化建设。", ["规模以上企业"]),
        # a place (场所) is not a body
        ("各公众聚集场所要健全各项安全措施。", []),
    ],
)
def test_rule_bodies_beyond_the_modals(text, bodies):
    assert sorted(text[s:e] for s, e in find_rule_bodies(text)) == sorted(bodies)


@pytest.mark.parametrize(
    ("text", "bodies"),
    [
        # a regulation's penalty and licensing clauses: `由 X 责令/制定……`
        ("情节严重的，由煤矿安全监察机构责令停产整顿；", ["煤矿安全监察机构"]),
        ("安全生产许可证正本、副本的式样由国家煤矿安全监察局制定。", ["国家煤矿安全监察局"]),
        # the regulator's duty stated as `X对……实施监察`, `X发现……的，应当……`
        ("第二十条　煤矿安全监察机构对煤矿执行煤炭法的情况实施监察。", ["煤矿安全监察机构"]),
        (
            "第二十九条　煤矿安全监察机构发现煤矿有下列情形之一的，应当责令限期改正：",
            ["煤矿安全监察机构"],
        ),
        # `及以下` belongs to the name; `或者` is one separator; `其所在` is no office
        (
            "第四十一条   省级及以下煤矿安全监察机构应当按照年度监察执法计划实施严格监察；",
            ["省级及以下煤矿安全监察机构"],
        ),
        (
            "第三十五条   煤矿企业或者具备安全培训条件的机构应当按照培训大纲对其他从业人员进行安全培训。",
            ["煤矿企业", "具备安全培训条件的机构"],
        ),
        ("持培训合格证明由本人或其所在企业向当地考核发证部门提出考试申请。", ["其所在企业"]),
        # `X机构及其Y人员` names two bodies, `X政府及其有关部门` one; `移送 X`, `会同 X`
        (
            "第七条　煤矿安全监察机构及其煤矿安全监察人员应当依法履行安全监察职责。",
            ["煤矿安全监察机构", "煤矿安全监察人员"],
        ),
        ("各级人民政府及其有关部门要加强监督检查。", ["各级人民政府及其有关部门"]),
        (
            "县级以上地方人民政府及其应急管理部门应当加强监督检查。",
            ["县级以上地方人民政府及其应急管理部门"],
        ),
        (
            "拒不执行的，由煤矿安全监察机构移送地质矿产主管部门依法吊销采矿许可证。",
            ["煤矿安全监察机构", "地质矿产主管部门"],
        ),
        # `组织` in an organisation's name is no act, whatever reads it
        ("共青团等群众组织开展安全志愿服务。", ["共青团"]),
        # praise is no duty; `经 X 审查` names who approves, not who must act
        ("检查组对我市安全生产工作给予充分肯定。", []),
        ("特种作业操作证遗失的，经原考核发证部门审查确认后，予以更新。", []),
    ],
)
def test_regulation_bodies(text, bodies):
    assert [text[a:b] for a, b in find_rule_bodies(text)] == bodies


@pytest.mark.parametrize(
    ("text", "bodies"),
    [
        # round 3's laws: a duty after its condition, duty and right wordings, a law's
        # alias note, shared-head lists, `监督管理部门` as a name, `其主要负责人`
        ("生产经营单位发生生产安全事故后，应当在一小时内报告。", ["生产经营单位"]),
        ("考核部门接到申请后，应当及时组织考试。", ["考核部门"]),
        (
            "第十五条 生产经营单位的安全生产管理机构和安全生产管理人员负有下列职责：",
            ["生产经营单位的安全生产管理机构", "安全生产管理人员"],
        ),
        ("负有安全生产监管职责的部门制定监督检查计划。", ["负有安全生产监管职责的部门"]),
        ("分管安全生产的负责人协助主要负责人履行安全生产职责；", ["分管安全生产的负责人"]),
        ("其他有关部门在各自职责范围内，做好有关的安全生产工作。", ["其他有关部门"]),
        ("第三条 国务院统一领导全国的生产安全事故应急工作。", ["国务院"]),
        ("委托物业服务企业管理电梯的，受托人为管理责任人。", ["受托人"]),
        (
            "第七条 市和区安全生产监督管理部门（以下简称安全生产监管部门）对本行政区域内的"
            "安全生产工作实施综合监督管理，履行下列职责：",
            ["市和区安全生产监督管理部门"],
        ),
        (
            "第十二条 市场监督管理部门对其许可的特种设备生产单位实施证后监督检查。",
            ["市场监督管理部门"],
        ),
        (
            "生产、储存、使用危险化学品的单位应当建立安全管理制度。",
            ["生产、储存、使用危险化学品的单位"],
        ),
        (
            "县级以上人民政府及其负有安全生产监督管理职责的部门应当推进社会化服务体系建设。",
            ["县级以上人民政府", "负有安全生产监督管理职责的部门"],
        ),
        (
            "生产经营单位是本单位安全生产的责任主体，其主要负责人对本单位的安全生产工作全面负责。",
            ["生产经营单位", "主要负责人"],
        ),
        # a name as a clause of its own, a time before the duty, `对……负有……责任`
        (
            "高危行业、较大危险行业的生产经营单位，应当每半年至少组织一次演练。",
            ["高危行业、较大危险行业的生产经营单位"],
        ),
        ("第二十三条 学校在暑假、寒假前应当组织人员进行全面安全检查。", ["学校"]),
        ("中小学校组织大型集体外出活动，应当向主管的教育部门备案。", ["中小学校"]),
        ("第五条 学校对学生负有安全教育、管理和保护的责任。", ["学校"]),
        ("公司级、部门、班组管控，应立即整改。", []),
        # guide § 12: the commissioned agency, the one penalised, `任何单位` are no bodies
        ("并委托具有安全生产评价资质的中介服务机构进行项目安全评价。", []),
        ("任何单位和个人不得侵占治理资金或者挪作他用。", []),
        ("各地、各部门要加强对重大隐患治理挂牌督办。", ["各部门"]),
    ],
)
def test_law_bodies(text, bodies):
    assert [text[a:b] for a, b in find_rule_bodies(text)] == bodies
