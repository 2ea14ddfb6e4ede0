"""Realistic generated data: agencies of three cities in 福建省 and a seeded ``Corpus`` of publishing API
bodies (decisions naming people and organizations, pre-phase items), valid for the disclosure schemas."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    region: str
    parent: str | None
    city: str  # 泉州市
    district: str  # 鲤城区, or "" for a city-level agency
    abbr: str  # document-number prefix: 泉市监
    domains: tuple[str, ...]
    address: str = ""
    phone: str = ""


# city name, city code, abbreviation for document numbers, districts (code, name)
CITIES = (
    ("泉州市", "350500", "泉", (("350502", "鲤城区"), ("350503", "丰泽区"), ("350505", "泉港区"))),
    ("厦门市", "350200", "厦", (("350203", "思明区"), ("350206", "湖里区"))),
    ("福州市", "350100", "榕", (("350102", "鼓楼区"), ("350104", "仓山区"))),
)

# agency name, abbreviation, domains it enforces
CITY_AGENCIES = (
    ("市场监督管理局", "市监", ("food", "drug", "market")),
    ("生态环境局", "环", ("environment",)),
    ("交通运输局", "交", ("transport",)),
    ("住房和城乡建设局", "建", ("construction",)),
    ("应急管理局", "应急", ("safety", "fire")),
    ("城市管理局", "城管", ("urban",)),
    ("文化和旅游局", "文旅", ("culture",)),
    ("卫生健康委员会", "卫健", ("health",)),
)
COURT_DISTRICT = {city: districts[0][1] for city, _, _, districts in CITIES}
DISTRICT_AGENCIES = (
    ("市场监督管理局", "市监", ("food", "drug", "market")),
    ("综合执法局", "综执", ("urban", "construction", "environment")),
)


def make_agencies(max_agencies: int | None = None) -> list[Agency]:
    """Agencies of three cities in 福建省: city bureaus and district bureaus, a parent for each.

    Codes have the shape of unified social credit codes but are made up."""
    agencies: list[Agency] = []
    serial = 0
    for city, city_code, city_abbr, districts in CITIES:
        root_code = f"11{city_code}MB0{serial:06d}A"
        serial += 1
        # The city's 司法局 supervises enforcement; it publishes nothing itself here.
        agencies.append(Agency(root_code, f"{city}司法局", city_code, None, city, "", f"{city_abbr}司", ()))
        for name, abbr, domains in CITY_AGENCIES:
            code = f"11{city_code}MB0{serial:06d}{'ABCDEFGHJK'[serial % 10]}"
            serial += 1
            agencies.append(
                Agency(code, f"{city}{name}", city_code, root_code, city, "", f"{city_abbr}{abbr}", domains)
            )
        for district_code, district in districts:
            for name, abbr, domains in DISTRICT_AGENCIES:
                code = f"11{district_code}MB0{serial:06d}{'ABCDEFGHJK'[serial % 10]}"
                serial += 1
                agencies.append(
                    Agency(
                        code,
                        f"{city}{district}{name}",
                        district_code,
                        root_code,
                        city,
                        district,
                        f"{city_abbr}{district[0]}{abbr}",
                        domains,
                    )
                )
    agencies = [
        Agency(**{**a.__dict__, "address": f"{a.city}{a.district}行政服务中心", "phone": "0595-22180000"})
        for a in agencies
    ]
    return agencies[:max_agencies] if max_agencies else agencies


def publishers(agencies: Sequence[Agency]) -> list[Agency]:
    """The agencies that publish decisions (every one but the supervising 司法局)."""
    return [a for a in agencies if a.domains]


# Per domain: business kinds of the parties, (short title, what the party did) pairs, laws, licences,
# inspection subjects, and extra sentences. This is what makes posting lists realistic: the 2-character
# words citizens type (食品, 处罚, 许可, 环境, 交通, 消防, 药品, 建筑) occur with very different frequencies.
DOMAINS: dict[str, dict[str, Any]] = {
    "food": {
        "label": "食品安全",
        "business": ("食品店", "便利店", "超市", "餐饮店", "小吃店", "食品商行", "糕点店", "火锅店", "奶茶店"),
        "violations": (
            ("销售过期食品", "销售超过保质期的食品"),
            ("无证经营食品", "未取得食品经营许可从事食品经营活动"),
            ("使用不合格原料", "使用不符合食品安全标准的食品原料生产食品"),
            ("未落实进货查验", "未按规定履行进货查验义务，未查验供货者的许可证和食品合格证明文件"),
            ("超范围使用添加剂", "在食品中超范围、超限量使用食品添加剂"),
            ("餐具未消毒", "餐具、饮具未按规定洗净、消毒"),
            ("从业人员无健康证明", "安排未取得健康证明的人员从事接触直接入口食品的工作"),
        ),
        "laws": (
            "《中华人民共和国食品安全法》",
            "《中华人民共和国食品安全法实施条例》",
            "《食品经营许可和备案管理办法》",
        ),
        "licences": ("食品经营许可", "食品生产许可", "小作坊登记"),
        "checks": ("食品安全监督检查", "餐饮服务食品安全检查", "食品抽样检验"),
        "extra": (
            "执法人员现场查获过期食品若干，已依法予以没收。",
            "经抽样检验，涉案食品菌落总数不符合食品安全国家标准。",
            "当事人对违法事实无异议，并积极配合调查。",
            "责令当事人立即停止销售并召回已售出的食品。",
        ),
    },
    "drug": {
        "label": "药品经营",
        "business": ("大药房", "药店", "诊所", "医药有限公司", "医疗器械经营部"),
        "violations": (
            ("销售假药", "销售未取得药品批准证明文件的药品"),
            ("未凭处方销售处方药", "未凭医师处方销售处方药"),
            ("药品储存不当", "未按照规定条件储存需冷藏的药品"),
            ("经营无证医疗器械", "经营未取得医疗器械注册证的第二类医疗器械"),
            ("执业药师不在岗", "执业药师不在岗时仍销售处方药"),
        ),
        "laws": ("《中华人民共和国药品管理法》", "《医疗器械监督管理条例》", "《药品经营质量管理规范》"),
        "licences": ("药品经营许可", "第二类医疗器械经营备案", "第三类医疗器械经营许可"),
        "checks": ("药品经营质量监督检查", "医疗器械经营检查"),
        "extra": (
            "现场检查发现温湿度记录缺失，冷藏设备未正常运行。",
            "涉案药品货值金额较小，且当事人系初次违法。",
            "责令当事人完善药品购销记录，规范药品经营质量管理。",
        ),
    },
    "market": {
        "label": "市场监管",
        "business": ("商贸有限公司", "电子商务有限公司", "加油站", "眼镜店", "广告有限公司", "电梯有限公司"),
        "violations": (
            ("发布虚假广告", "在网络平台发布含有虚假内容的广告，欺骗、误导消费者"),
            ("价格违法", "不按规定明码标价，在标价之外加价出售商品"),
            ("计量器具未检定", "使用未经检定的计量器具进行贸易结算"),
            ("特种设备未检验", "使用未经定期检验的电梯等特种设备"),
            ("销售不合格产品", "销售不符合保障人体健康和人身安全的国家标准的产品"),
            ("侵犯注册商标专用权", "销售侵犯注册商标专用权的商品"),
        ),
        "laws": (
            "《中华人民共和国广告法》",
            "《中华人民共和国价格法》",
            "《中华人民共和国计量法》",
            "《中华人民共和国特种设备安全法》",
            "《中华人民共和国产品质量法》",
            "《中华人民共和国商标法》",
        ),
        "licences": ("特种设备使用登记", "计量器具型式批准", "广告发布登记"),
        "checks": ("市场监管领域双随机抽查", "特种设备安全监督检查", "计量监督检查"),
        "extra": (
            "经查，当事人违法所得共计人民币三千二百元。",
            "上述事实有现场笔录、询问笔录、电子数据等证据证实。",
            "市场监管部门已将该行政处罚信息记于当事人名下并向社会公示。",
        ),
    },
    "environment": {
        "label": "环境保护",
        "business": ("化工有限公司", "纺织印染有限公司", "石材加工厂", "汽车修理厂", "电镀有限公司", "陶瓷有限公司"),
        "violations": (
            ("超标排放污染物", "通过雨水管网超标排放水污染物"),
            ("未批先建", "建设项目环境影响评价文件未经批准擅自开工建设"),
            ("危险废物处置不当", "未按规定贮存、处置危险废物"),
            ("污染防治设施未运行", "大气污染防治设施未正常运行，废气无组织排放"),
            ("噪声扰民", "夜间施工产生环境噪声污染，影响周边居民正常生活"),
        ),
        "laws": (
            "《中华人民共和国环境保护法》",
            "《中华人民共和国水污染防治法》",
            "《中华人民共和国大气污染防治法》",
            "《中华人民共和国固体废物污染环境防治法》",
            "《中华人民共和国环境影响评价法》",
        ),
        "licences": ("排污许可", "建设项目环境影响评价审批", "危险废物经营许可"),
        "checks": ("生态环境监督执法检查", "污染源双随机检查", "环境监测"),
        "extra": (
            "经监测，总排口化学需氧量浓度超过排放标准一点三倍。",
            "责令当事人立即改正违法行为，恢复污染防治设施正常运行。",
            "生态环境部门将依法对整改情况开展后督察。",
        ),
    },
    "transport": {
        "label": "道路运输",
        "business": ("运输有限公司", "物流有限公司", "驾驶员培训学校", "汽车客运站", "出租汽车有限公司"),
        "violations": (
            ("非法营运", "未取得道路运输经营许可，擅自从事道路客运经营"),
            ("货车超限运输", "驾驶超限运输车辆在公路上行驶"),
            ("未按规定维护车辆", "未按规定对营运车辆进行二级维护"),
            ("网约车无证经营", "未取得网络预约出租汽车运输证从事网约车经营"),
            ("危险货物运输违规", "运输危险货物未配备押运人员"),
        ),
        "laws": (
            "《中华人民共和国道路运输条例》",
            "《中华人民共和国公路法》",
            "《网络预约出租汽车经营服务管理暂行办法》",
        ),
        "licences": ("道路运输经营许可", "网络预约出租汽车运输证", "超限运输车辆行驶公路许可"),
        "checks": ("道路运输安全检查", "交通运输执法检查", "公路超限检测"),
        "extra": (
            "执法人员在交通检查站依法拦截检查涉案车辆。",
            "经称重检测，车货总质量超过限定标准八点五吨。",
            "交通运输执法部门依法暂扣涉案车辆。",
        ),
    },
    "construction": {
        "label": "建筑施工",
        "business": ("建设工程有限公司", "建筑劳务有限公司", "房地产开发有限公司", "装饰工程有限公司", "建材有限公司"),
        "violations": (
            ("未取得施工许可擅自施工", "未取得施工许可证擅自开工建设"),
            ("违法分包", "将承包的工程违法分包给不具备资质的单位"),
            ("扬尘污染", "建筑施工工地未采取覆盖、洒水等扬尘防治措施"),
            ("违法建设", "未取得建设工程规划许可证进行建设"),
            ("安全防护不到位", "施工现场高处作业未设置安全防护设施"),
        ),
        "laws": (
            "《中华人民共和国建筑法》",
            "《建设工程质量管理条例》",
            "《建设工程安全生产管理条例》",
            "《中华人民共和国城乡规划法》",
        ),
        "licences": ("建筑工程施工许可", "建设工程规划许可", "商品房预售许可", "建筑业企业资质"),
        "checks": ("建筑施工安全检查", "工程质量监督检查", "建筑市场执法检查"),
        "extra": (
            "责令当事人停止施工，限期改正。",
            "该工程合同价款为人民币一千二百万元。",
            "住建部门将对项目后续施工情况进行跟踪检查。",
        ),
    },
    "fire": {
        "label": "消防安全",
        "business": ("酒店", "娱乐有限公司", "商场", "仓储有限公司", "培训学校", "网吧"),
        "violations": (
            ("占用疏散通道", "占用、堵塞、封闭疏散通道、安全出口"),
            ("消防设施损坏", "消防设施、器材未保持完好有效"),
            ("未经消防安全检查营业", "公众聚集场所未经消防救援机构许可擅自投入使用、营业"),
            ("违规电动车充电", "在楼道内违规为电动自行车充电"),
        ),
        "laws": ("《中华人民共和国消防法》", "《机关、团体、企业、事业单位消防安全管理规定》"),
        "licences": ("公众聚集场所投入使用营业前消防安全检查", "建设工程消防验收"),
        "checks": ("消防监督检查", "消防安全专项检查"),
        "extra": (
            "检查发现火灾自动报警系统处于故障状态。",
            "责令当事人立即清除占用疏散通道的杂物。",
            "消防救援机构将依法组织复查。",
        ),
    },
    "safety": {
        "label": "安全生产",
        "business": ("机械制造有限公司", "鞋业有限公司", "危险化学品经营部", "矿业有限公司", "包装有限公司"),
        "violations": (
            ("未开展安全生产教育培训", "未对从业人员进行安全生产教育和培训"),
            ("未如实记录事故隐患排查", "未建立事故隐患排查治理制度，未如实记录隐患排查治理情况"),
            ("特种作业人员无证上岗", "特种作业人员未按照规定经专门的安全作业培训并取得相应资格上岗作业"),
            ("危险化学品违规储存", "未按规定储存危险化学品"),
        ),
        "laws": ("《中华人民共和国安全生产法》", "《危险化学品安全管理条例》", "《生产安全事故应急条例》"),
        "licences": ("安全生产许可", "危险化学品经营许可", "烟花爆竹经营许可"),
        "checks": ("安全生产执法检查", "危险化学品专项检查", "安全生产大检查"),
        "extra": (
            "检查发现车间内存在多处安全生产事故隐患。",
            "责令当事人限期整改，消除安全隐患。",
            "应急管理部门将对隐患整改情况进行复查。",
        ),
    },
    "urban": {
        "label": "城市管理",
        "business": ("餐饮店", "便利店", "装饰工程有限公司", "广告有限公司", "物业管理有限公司"),
        "violations": (
            ("占道经营", "擅自占用城市道路摆摊经营"),
            ("擅自设置户外广告", "未经批准擅自设置大型户外广告设施"),
            ("乱倒建筑垃圾", "随意倾倒建筑垃圾"),
            ("违规排放油烟", "露天烧烤排放油烟污染"),
            ("损坏绿化", "擅自砍伐城市树木、损坏城市绿地"),
        ),
        "laws": ("《城市市容和环境卫生管理条例》", "《城市绿化条例》", "《福建省城市市容和环境卫生管理办法》"),
        "licences": ("临时占用城市道路许可", "户外广告设置许可", "城市建筑垃圾处置核准"),
        "checks": ("市容环境卫生检查", "城市管理综合执法检查"),
        "extra": (
            "执法人员现场拍照取证并制作现场检查笔录。",
            "责令当事人立即清理现场，恢复原状。",
            "城市管理部门已将处理情况告知投诉人。",
        ),
    },
    "culture": {
        "label": "文化旅游",
        "business": ("旅行社有限公司", "娱乐有限公司", "网吧", "演出经纪有限公司", "民宿"),
        "violations": (
            ("未经许可经营旅行社业务", "未经许可经营旅行社业务"),
            ("违规接纳未成年人", "互联网上网服务营业场所接纳未成年人进入"),
            ("擅自举办营业性演出", "未经批准擅自举办营业性演出"),
            ("不合理低价游", "以不合理的低价组织旅游活动，诱骗旅游者"),
        ),
        "laws": ("《中华人民共和国旅游法》", "《互联网上网服务营业场所管理条例》", "《营业性演出管理条例》"),
        "licences": ("旅行社业务经营许可", "营业性演出许可", "娱乐场所经营许可"),
        "checks": ("文化市场综合执法检查", "旅游市场秩序检查"),
        "extra": (
            "经查，当事人组织游客四十余人参加旅游活动。",
            "文化市场综合执法机构已责令当事人改正。",
        ),
    },
    "health": {
        "label": "卫生健康",
        "business": ("诊所", "口腔门诊部", "美容有限公司", "游泳馆", "酒店"),
        "violations": (
            ("非法行医", "未取得医疗机构执业许可证擅自执业"),
            ("超范围执业", "医疗机构超出登记的诊疗科目范围开展诊疗活动"),
            ("公共场所卫生不合格", "公共场所卫生检测结果不符合国家卫生标准"),
            ("医疗废物处置不当", "未按规定分类收集医疗废物"),
        ),
        "laws": (
            "《医疗机构管理条例》",
            "《中华人民共和国基本医疗卫生与健康促进法》",
            "《公共场所卫生管理条例》",
            "《医疗废物管理条例》",
        ),
        "licences": ("医疗机构执业许可", "公共场所卫生许可", "放射诊疗许可"),
        "checks": ("卫生监督检查", "医疗机构依法执业检查"),
        "extra": (
            "卫生监督员现场检查发现诊疗记录不完整。",
            "责令当事人立即停止执业活动。",
        ),
    },
}

CATEGORIES = ("penalty", "licensing", "inspection", "coercion", "levy", "fee")
CATEGORY_WEIGHTS = (45, 25, 12, 9, 5, 4)
CATEGORY_DOC = {
    "penalty": "罚",
    "licensing": "许",
    "inspection": "检",
    "coercion": "强",
    "levy": "征",
    "fee": "费",
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方")
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红建国志晓东海燕春梅文斌宇辰浩然思远子涵雨桐欣怡"
BRANDS = tuple(
    "鑫隆恒达华美永盛金源宏发瑞丰佳和正泰汇通顺达博雅新宇天成福顺晋江闽南海峡东升万家"
    "嘉禾长青荣昌兴旺鸿运安泰信诚德润明辉景程同心聚丰晨光益康百盛宝龙华润龙腾凯越志远"[i : i + 2]
    for i in range(0, 80, 2)
)
LEVY_ITEMS = ("城市基础设施配套费", "污水处理费", "水资源费", "国有土地上房屋征收补偿", "防空地下室易地建设费")
FEE_ITEMS = ("不动产登记费", "特种设备检验检测费", "占道费", "证照工本费", "考试考务费")
PLACES = ("经营场所", "仓库", "生产车间", "门店", "施工现场", "停车场", "营业大厅", "后厨")
CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..999 in Chinese numerals, as article numbers are written: 一百二十四."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return CN_DIGITS[hundreds] + "百"
    if rest < 10:
        return CN_DIGITS[hundreds] + "百零" + CN_DIGITS[rest]
    return CN_DIGITS[hundreds] + "百" + (CN_DIGITS[rest // 10] + "十" + (CN_DIGITS[rest % 10] if rest % 10 else ""))


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(rng: random.Random, region: str) -> str:
    """A resident ID number with a correct check character (GB 11643-1999), so the privacy gate masks it."""
    born = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(0, 45 * 365))
    body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10)}{rng.randrange(10**8):08d}"


def credit_code(rng: random.Random, region: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return "91" + region + "MA" + "".join(rng.choice(alphabet) for _ in range(8))


# Decision dates fall in the last DATE_SPAN_DAYS days. A person's penalty leaves public view 365 days
# after its decision (DISCLOSURE_PERIODS), and the expiry job each gunicorn worker runs at start would
# otherwise expire items, and append to the transparency log, in the middle of a measurement.
DATE_SPAN_DAYS = 300


def credit_fields(
    category: str, is_person: bool, decided: dt.date, violation: str, amount: int, licence: str
) -> dict[str, Any]:
    """The 信用中国 双公示 fields a penalty or licensing decision must carry (disclosures.schemas.credit_errors),
    matching what its text says: a warning and a fine; a licence for five years."""
    if category == "penalty":
        details = {
            "penalty_classes": ["warning", "fine"],
            "fine_amount": amount,
            "violation_type": violation,
            "violation_facts": f"当事人{violation}。",
            "penalty_content": f"警告，罚款{amount}元",
        }
        return {"details": details if is_person else {**details, "legal_representative": "陈某某"}}
    if category == "licensing":
        until = decided + dt.timedelta(days=5 * 365)
        details = {"licence_class": "ordinary", "licence_name": licence, "licence_content": f"准予{licence}"}
        return {"details": details, "effective_from": decided.isoformat(), "effective_until": until.isoformat()}
    return {}


def decision_dates() -> tuple[dt.date, dt.date]:
    """(earliest, latest) decision date of generated items: the last DATE_SPAN_DAYS days up to today."""
    today = dt.date.today()
    return today - dt.timedelta(days=DATE_SPAN_DAYS), today


class Corpus:
    """Seeded generator of publishing API bodies, valid for ``backend/disclosures/schemas.py``.

    Decisions name a party (organization, or a person whose ID number, mobile and sometimes landline
    appear in the text, so the privacy gate has work to do), a violation of the agency's domains, the
    law, a document number unique within the run, and a decision date in the last DATE_SPAN_DAYS days."""

    def __init__(self, seed: int, *, earliest: dt.date | None = None, latest: dt.date | None = None) -> None:
        self.rng = random.Random(seed)
        default_earliest, today = decision_dates()
        self.earliest = earliest or default_earliest
        self.latest = min(latest or today, today)
        self.serial = 0

    # parties
    def person(self) -> str:
        rng = self.rng
        surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.03 else rng.choice(SURNAMES)
        return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))

    def organization(self, agency: Agency, domain: dict[str, Any]) -> str:
        rng = self.rng
        where = agency.district or rng.choice(("鲤城区", "丰泽区", "思明区", "湖里区", "鼓楼区", "仓山区", "晋江市"))
        return f"{agency.city}{where}{rng.choice(BRANDS)}{rng.choice(domain['business'])}"

    def date(self) -> dt.date:
        span = (self.latest - self.earliest).days
        return self.earliest + dt.timedelta(days=self.rng.randrange(span + 1))

    def article(self) -> str:
        return f"第{chinese_number(self.rng.randrange(2, 160))}条"

    def _fill(self, first: list[str], optional: list[str], target: int, hard_max: int = 400) -> str:
        """Sentences in order, then optional ones at random, until about ``target`` characters."""
        text = "".join(first)
        rng = self.rng
        pool = optional[:]
        rng.shuffle(pool)
        for sentence in pool:
            if len(text) >= target:
                break
            if len(text) + len(sentence) <= hard_max:
                text += sentence
        return text[:hard_max]

    def decision(self, agency: Agency, external_id: str, *, person_share: float = 0.3) -> dict[str, Any]:
        rng = self.rng
        self.serial += 1
        domain_key = rng.choice(agency.domains)
        domain = DOMAINS[domain_key]
        category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
        short, act = rng.choice(domain["violations"])
        law = rng.choice(domain["laws"])
        licence = rng.choice(domain["licences"])
        check = rng.choice(domain["checks"])
        decided = self.date()
        is_person = rng.random() < person_share
        name = self.person() if is_person else self.organization(agency, domain)
        subject_id = id_number(rng, agency.region) if is_person else credit_code(rng, agency.region)
        if is_person:
            party = f"当事人{name}（公民身份号码{subject_id}，联系电话{mobile(rng)}）"
            if rng.random() < 0.3:
                party += f"，住所地电话0595-{rng.randrange(2000_0000, 2999_9999)}"
        else:
            party = f"当事人{name}（统一社会信用代码{subject_id}）"
        amount = rng.choice((2000, 3000, 5000, 8000, 10000, 20000, 50000, 100000))
        amount_cn = {
            2000: "二千",
            3000: "三千",
            5000: "五千",
            8000: "八千",
            10000: "一万",
            20000: "二万",
            50000: "五万",
            100000: "十万",
        }[amount]
        court = f"{agency.city}{agency.district or COURT_DISTRICT[agency.city]}人民法院"
        government = f"{agency.city}人民政府"
        when = f"{decided.year}年{decided.month}月{decided.day}日"
        place = rng.choice(PLACES)
        if category == "penalty":
            title = rng.choice(
                (f"{name}{short}行政处罚决定书", f"关于对{name}{short}的行政处罚决定", f"{name}{short}案")
            )
            first = [
                f"{party}于{when}前在其{place}{act}。",
                f"上述行为违反了{law}{self.article()}的规定。",
                f"依据{law}{self.article()}，本机关决定给予当事人警告，并处罚款人民币{amount_cn}元（{amount}元）的行政处罚。",
            ]
        elif category == "licensing":
            title = rng.choice((f"{name}{licence}准予行政许可决定书", f"关于准予{name}{licence}的决定"))
            first = [
                f"{party}于{when}向本机关提出{licence}申请。",
                f"经审查，申请材料齐全、符合法定形式，符合{law}{self.article()}规定的条件。",
                f"本机关决定准予{licence}，许可有效期五年。",
            ]
        elif category == "inspection":
            title = rng.choice((f"{name}{check}结果", f"{domain['label']}双随机抽查结果（{name}）"))
            first = [
                f"本机关于{when}依据{law}对{party}开展{check}。",
                rng.choice(
                    (
                        "检查未发现问题。",
                        f"检查发现当事人存在{short}问题，已责令限期整改。",
                        f"检查发现当事人{act}，已依法立案调查。",
                    )
                ),
            ]
        elif category == "coercion":
            title = rng.choice((f"{name}{short}查封扣押决定书", f"关于对{name}采取行政强制措施的决定"))
            first = [
                f"{party}涉嫌{act}。",
                f"为防止证据损毁、制止违法行为，依据{law}{self.article()}，本机关于{when}决定对涉案物品实施查封、扣押，期限三十日。",
            ]
        elif category == "levy":
            item = rng.choice(LEVY_ITEMS)
            title = f"{name}{item}征收决定书"
            first = [
                f"依据{law}及有关规定，本机关决定向{party}征收{item}。",
                f"征收金额为人民币{amount}元，请于{when}起十五日内缴纳。",
            ]
        else:  # fee
            item = rng.choice(FEE_ITEMS)
            title = f"{name}{item}收费决定"
            first = [
                f"依据{law}及收费标准，本机关对{party}收取{item}人民币{amount}元。",
                f"收费项目、标准和依据已在办事大厅公示，决定日期{when}。",
            ]
        optional = [
            *domain["extra"],
            f"本案由{agency.name}执法人员依法立案调查，调查终结后经集体讨论决定。",
            f"本机关已于{when}前依法告知当事人拟作出行政处理决定的事实、理由、依据及依法享有的陈述、申辩权利。",
            f"当事人如不服本决定，可在收到本决定书之日起六十日内向{government}申请行政复议，"
            f"或者在六个月内依法向{court}提起行政诉讼。",
            f"根据{domain['label']}领域行政执法公示要求，本决定在作出之日起七个工作日内公开。",
            "当事人应当自收到本决定书之日起十五日内，到指定银行或者通过电子支付系统缴纳罚没款。",
            f"监督电话12345，执法监督机构为{agency.city}司法局。",
        ]
        content = self._fill(first, optional, rng.randrange(100, 401))
        if len(content) < 100:
            content += f"特此公告。本决定书由{agency.name}负责解释，监督电话12345，执法监督机构为{agency.city}司法局。"
        year = decided.year
        body: dict[str, Any] = {
            "external_id": external_id,
            "phase": "post",
            "type": "decision",
            "category": category,
            "title": title[:200],
            "content": content,
            "legal_basis": f"{law}{self.article()}",
            "document_no": f"{agency.abbr}{CATEGORY_DOC[category]}〔{year}〕{self.serial}号",
            "decision_date": decided.isoformat(),
            "subject_type": "person" if is_person else "organization",
            "subject_name": name,
            "subject_id": subject_id,
            **credit_fields(category, is_person, decided, short, amount, licence),
        }
        if rng.random() < 0.15:
            body["attachments"] = [
                {
                    "name": f"{title[:60]}.pdf",
                    "url": f"https://files.example.gov.cn/{agency.code}/{quote(external_id)}.pdf",
                    "sha256": f"{rng.getrandbits(256):064x}",
                    "size": rng.randrange(20_000, 2_000_000),
                    "media_type": "application/pdf",
                }
            ]
        return body

    def pre_item(self, agency: Agency, external_id: str) -> dict[str, Any]:
        """A pre-phase (事前公开) or during-phase item: power list entry, service guide, procedure, ..."""
        rng = self.rng
        domain = DOMAINS[rng.choice(agency.domains)]
        short, act = rng.choice(domain["violations"])
        law = rng.choice(domain["laws"])
        licence = rng.choice(domain["licences"])
        kind = rng.choices(("power", "service_guide", "procedure", "inspection_list", "remedy", "on_site_notice"),
                           (35, 25, 10, 15, 5, 10))[0]  # fmt: skip
        guide = (
            f"申请人可通过闽政通或{agency.city}网上办事大厅提交{licence}申请材料，也可到{agency.name}政务服务窗口办理。"
            f"本机关自受理之日起二十个工作日内作出行政许可决定，不收取任何费用。办理依据为{law}{self.article()}。"
            f"咨询电话0595-{rng.randrange(2000_0000, 2999_9999)}，监督投诉电话12345。"
        )
        if kind == "power":
            body = {
                "phase": "pre",
                "type": "power",
                "title": f"对{act}的行政处罚",
                "legal_basis": f"{law}{self.article()}",
                "details": {"matter": f"{domain['label']}行政处罚（{short}）", "basis": law, "time_limit": "九十日"},
            }
        elif kind == "inspection_list":
            body = {
                "phase": "pre",
                "type": "inspection_list",
                "title": f"{agency.name}{domain['label']}随机抽查事项清单（{self.serial}）",
                "details": {
                    "subject": agency.name,
                    "basis": law,
                    "targets": f"辖区内{rng.choice(domain['business'])}",
                    "content": f"{domain['label']}法律法规执行情况",
                    "ratio": f"{rng.choice((3, 5, 10))}%",
                    "method": "双随机、一公开",
                    "frequency": "每年一次",
                },
            }
        elif kind == "on_site_notice":
            body = {
                "phase": "during",
                "type": "on_site_notice",
                "title": f"{domain['label']}现场执法告知书",
                "content": f"执法人员依据{law}对当事人开展{rng.choice(domain['checks'])}，出示执法证件并告知当事人"
                f"依法享有陈述、申辩及申请回避的权利。" + guide[:120],
            }
        else:
            titles = {
                "service_guide": f"{licence}办事指南",
                "procedure": f"{domain['label']}行政处罚执法流程",
                "remedy": f"{agency.name}行政复议和行政诉讼救济渠道",
            }
            body = {"phase": "pre", "type": kind, "title": titles[kind], "content": guide}
        self.serial += 1
        body["external_id"] = external_id
        return body

    def item(self, agency: Agency, external_id: str, pre_share: float = 0.0) -> dict[str, Any]:
        if pre_share and self.rng.random() < pre_share:
            return self.pre_item(agency, external_id)
        return self.decision(agency, external_id)
