"""Regular expressions for casualty, loss and headcount statements in Chinese news.

Every pattern has a ``num`` group (and optionally ``pre``, ``num2``, ``q``, ``mul``, ``q2``)
read by :mod:`classifiers.facts`. Patterns run on a *masked* copy of the text in which ages,
dates, times and measures (50岁, 3日, 14时, 5公里 …) are blanked out, so a number that is not a
headcount cannot be read as one and cannot block a gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from classifiers.numerals import NUMBER_PATTERN
from classifiers.rules import required_literals

# Words that may stand right before a number: totals, updates, approximations.
_PRE = (
    r"(?P<pre>(?:[已共]|累计|共计|总计|目前|现已|仍有|尚有|仍然有)?"
    r"(?:上升至|上升到|升至|增至|增加至|增加到|攀升至|增加为|上升为|下修至|下调至|降至|降为|修正为|更新为|达到|高达|已达|达|"
    r"超过|超|逾|大约|约|近|至少|不少于)?)"
)
_VAGUE = r"数十|几十|数百|几百|上百|上千|数千|几千|上万|数万|几万|近百|近千|近万|万(?=[余多])"
COUNT = (
    _PRE + rf"(?P<num>{_VAGUE}|{NUMBER_PATTERN})"
    rf"(?:(?:至|到|-|~|—|－)(?P<num2>{NUMBER_PATTERN}))?"
    r"(?P<q>余|多)?(?P<mul>千万|百万|万|亿|千)?(?P<q2>余|多)?"
)
_COUNTER = r"(?:人次|人(?!民)|名|位|具|个|例)"
# People named by what they are stand in for a counter (两男子受重伤, 一环卫工被撞身亡, 一家六口).
_PERSON = (
    r"(?:男子|女子|男童|女童|男孩|女孩|孩子|小孩|儿童|幼儿|幼童|婴儿|老人|妇女|青年|少年|学生|工人|民工|环卫工|司机|"
    r"驾驶员|乘客|行人|游客|村民|居民|群众|民警|辅警|警察|消防员|士兵|军人|矿工|船员|渔民|路人|初中生|高中生|"
    r"被困人员|受困人员|被困者|受困者|失联人员|失踪人员|落水人员|落水者|员工|职工|孩童|工作人员|师生|女生|男生|童)"
)
_WHO = rf"(?:{_COUNTER}{_PERSON}?|{_PERSON}|口人?)"
# The living only: 12具疑似失联人员遗体 counts bodies, not missing people.
_WHO_LIVING = rf"(?:(?:人次|人(?!民)|名|位|个|例){_PERSON}?|{_PERSON}|口人?)"
# Characters a gap between a headcount and its verb may not contain: clause punctuation,
# another number, or words that start another statement.
_GAP = r"[^ ，。；,;！？!?\n、：:(\d零〇一二两三四五六七八九十百千万亿伤救困逃另死亡遇难失踪联重轻否搜寻没未]{0,10}?"
_SHORT_GAP = r"[^，。；,;！？!?\n、：:\d零〇一二两三四五六七八九十百千万亿]{0,5}?"

# A number right after a noun (死亡人数为12 / 受伤3人) may be linked only by these words, and
# must not be the count of the next statement (死亡982人受伤 is 982 injured, not dead).
_WHEN = r"(?:今天|今日|昨天|昨日|当天|当日|目前|现在|截至目前)?"  # (因灾死亡人数今天上升至15人)
_LINK = _WHEN + r"(?:为|是|已经|了| +\| *| *\| +|达到|达|还有|仍有|尚有|共有|有)?"
# The count is read whole (atomic): 死亡982人受伤 may not be read as 死亡98, nor 死亡20余人受伤 as
# 死亡20. A following verb that takes a count of its own (因灾死亡7人失联1人) starts the next
# statement, so the count before it stays with this noun.
_CN_DIGIT = r"[\d零〇一二两三四五六七八九十百千万亿几数]"
# A count-first statement's verb may not be followed by a count that ends the clause or is
# not itself followed by a verb: in 被困六人溺死四人 the dead are the four, in 7人失联1人 the
# missing are the one (but in 3人死亡2人受伤 the 2 is the injured).
_TAKES = rf"{_CN_DIGIT}+[余多]?[人名](?:$|[^受伤失死遇下重轻不送住入接在还仍正均被已获生出经抢中])"
_VERB_TAKES_COUNT = rf"(?!{_TAKES})"
_VERB_END = r"(?=$|[^受伤失死遇下重轻不送住入接在还仍正均被已获生出经抢中])"
_NOT_NEXT = (
    rf"(?![人名]?(?:{_PERSON}|师生|[^，。；,;！？!?\n\d]{{1,2}}?)?(?:受伤|伤|受?重伤|受?轻伤|轻微伤|失踪|失联|下落|死亡|遇难|获救|生还|幸存|脱险|被救|得救|住院|送医|送院|入院|中毒|治疗|被困|受困)(?!{_TAKES}))"
    r"(?![头匹只羽尾])"  # 牲畜死亡4384头: animals
)
NOUN_COUNT = "(?>" + COUNT + ")"
_DEATH_VERB = (
    r"(?:死亡|遇难|罹难|身亡|丧生|丧命|殒命|毙命|溺亡|溺毙|殉职|不治|遇害|坠亡|已无生命体征|无生命体征|经抢救无效|抢救无效|救治无效|医治无效|急救无效|"
    r"因伤势?过重(?:而)?(?:死亡|身亡|不治)?|伤重不治|"
    r"(?:[撞砸烧刺砍打炸摔]|受|重)?伤(?:后|势过重)?[^，。；,;！？!?\n\d自]{0,3}?(?:身亡|死亡|不治|离世)|(?<![生拼])死(?!亡|里逃生|刑|缓|角|伤|结|胡同|磕|守|机|板|心)|(?<![逃流灭存兴危])亡(?!羊|命))"
)
_DEATH_NOUN = r"(?:死亡|遇难|罹难|身亡|丧生|死者|遇难者|罹难者|遇难人员|死亡人员|逝者)"
# 15人死亡失踪 is one figure for the dead and the missing together: neither field.
_NOT_COMBINED = r"(?!亡?[和或、及与]?(?:失踪|失联|下落不明))"
# No signs of life (已无生命体征, 没有了生命迹象, 已经没有呼吸心跳) is a death.
_NO_LIFE = r"(?:(?:已经?)?(?:无|没有了?)(?:生命(?:体征|迹象|征象)|呼吸心跳|呼吸和心跳))"
# (Not the missing whose bodies were found: 3名失联人员遗体.)
_MISSING_VERB = r"(?:失踪|失联|下落不明|失去联系|失去联络|不见踪影)(?![^，。；,;！？!?\n\d]{0,4}?(?:遗体|尸体|遗骸))"
_SERIOUS = (
    r"(?:受重伤|重伤|严重受伤|重度(?:受)?[烧烫灼]?伤|(?:尚未|仍未)脱离(?:生命)?危险|伤势(?:都|也)?不轻|伤势较重|伤势严重|伤势危重|伤情严重|伤情危重|伤情较重|危重|病危|(?<!生)命危(?!险)|生命垂危|"
    r"急性中毒|病情危重|病情严重)"
)
_SERIOUS_GATE = "重伤|重度|严重受伤|伤势|伤情|危重|病危|命危|垂危|急性中毒|脱离|病情"
_LIGHT = (
    r"(?:受轻伤|轻伤(?!害)|伤势较轻|伤势不(?:算|太|算太)?重|伤[情势](?:比较|较为)?稳定|轻度受伤|"
    r"(?<![未没])(?:已经?)?脱离(?:生命)?危险|(?:暂|均|都)?(?:无|没有)生命危险|生命体征(?:平稳|稳定))"
)
_MINOR = r"(?:轻微伤)"
_INJURED = (
    r"(?<![未没无])(?:轻重伤|不同程度受伤|受伤|负伤|严重[烧烫砸撞摔刺炸]?伤|(?:轻微|轻度)?[烧烫砸撞摔刺炸咬割擦划挫灼碰踩压夹]伤|(?<!受)伤(?![心害痕疤口势情者员亡残病感]))"
    r"(?![^，。；,;！？!?\n\d自另又还一二两三四五六七八九十百]{0,8}?(?:身亡|离世|死亡|不治|抢救无效|医治无效|救治无效|而亡))(?!或)"
)
_POISONED = r"(?:食物中毒|中毒|出现[^，。；\n]{0,14}?(?:症状|呕吐|腹泻|腹痛|发热|发烧|头晕|恶心)|身体不适|就医|就诊)"
_EVACUATE = r"(?:紧急转移安置|转移安置|紧急转移|疏散|转移|撤离|安置)"
_GATHER = (
    r"(?:聚集|围堵|围攻|上访|聚众|集体|堵路|游行|罢工|参与|械斗|斗殴|"
    r"冲击(?=[^，。；\n]{0,4}?(?:政府|机关|党委|派出所|公安|法院|检察院|工厂|企业|公司)))"
)
# Verb first: 撞伤6名行人, 砸死2人.
_HURT_FIRST = r"(?:撞伤|砸伤|烧伤|刺伤|砍伤|打伤|咬伤|炸伤|击伤|致伤|连伤|(?<=刀)伤害)(?:了)?"
_KILL_FIRST = (
    r"(?:撞死|砸死|烧死|刺死|砍死|打死|炸死|杀死|杀害|击毙|致死|溺死|淹死|压死|闷死|毒死|踩死|冻死|"
    r"(?<![生吓笑气累乐])死了)(?:了)?"
)
_ADMIT = r"(?:收治|救治|接诊|接收)(?:了)?"
_TREATED = (
    r"(?:失明(?!的)|昏迷(?!不醒后)|留院观察|留医|(?:治疗|救治)(?:中|当中)|(?:正|仍)?在(?:医院)?[^，。；,;！？!?\n\d]{0,5}?(?:治疗|救治)(?:中|当中)?(?!无效)|被?送(?:往|到|至|进)[^，。；,;！？!?\n\d]{0,8}?医院(?:进行|接受)?(?:抢救|救治|治疗)|"
    r"(?:在医院|入院|住院)?接受(?:[^，。；,;！？!?\n\d]{0,6}?的)?治疗|在医院(?:接受)?救治|入院(?:治疗|救治|观察)|"
    r"被送(?:往|到|至|进)[^，。；,;！？!?\n\d]{0,8}?医院(?=$|[，。；,;])|送医治疗|住院治疗|住院观察|住院(?!部|费|的)|(?<![断输护接欢迎])送(?:医院?|院)(?!途中|不治|时|生|方|抢救无效|救治无效|医治无效|后[^，。；,;！？!?\n]{0,10}?(?:死亡|身亡|不治|抢救无效|离世)))"
)


@dataclass(frozen=True)
class FactPattern:
    """One way of stating a fact: which field it fills, which kind, and the regex.

    ``implied`` patterns state no number: their ``num`` group is the one victim they name
    (司机当场死亡, 致其死亡), and the fact's value is 1. ``numeral`` patterns cannot match a
    clause without a numeral character (the caller skips them there: most clauses with a
    casualty word hold no number, and every pattern costs a scan). ``summed`` patterns match a
    list of coordinated counts in ``num``; the fact's value is the sum of its items. A ``gate``
    is a cheap search a clause must pass before the pattern (which starts with a count, and so
    is slow to scan) runs on it.
    """

    field: str
    kind: str
    regex: re.Pattern[str]
    implied: bool = False
    numeral: bool = True
    summed: bool = False
    gate: re.Pattern[str] | None = None


def _p(
    field: str,
    kind: str,
    pattern: str,
    implied: bool = False,
    numeral: bool | None = None,
    summed: bool = False,
    gate: str | None = None,
) -> FactPattern:
    numeral = not implied if numeral is None else numeral
    compiled = re.compile(pattern)
    if gate is None:
        # Without a gate of its own, a pattern is gated on the literals every match of it contains
        # (one of them must be in the clause): a cheap search that skips most clauses.
        literals = required_literals(compiled)
        if literals:
            gate = "|".join(re.escape(literal) for literal in sorted(literals, key=len, reverse=True))
    compiled_gate = None if gate is None else re.compile(gate)
    return FactPattern(field, kind, compiled, implied, numeral, summed, compiled_gate)


# One victim named by role, relation or a 某-name, without a number (驾驶员当场死亡, 男孩已遇难,
# 受害人李某某…抢救无效死亡). Not preceded by a count or a plural word (两名司机, 多名学生: the
# counted patterns read those) and not followed by a plural or a conjunction (学生们, 司机和乘客).
_ONE = (
    r"(?:驾驶员|司机|飞行员|机长|教练|男子|女子|男童|女童|男孩|女孩|男婴|女婴|婴儿|宝宝|孩子|小孩|儿童|幼儿|幼童|"
    r"老人|老太|老汉|妇女|产妇|孕妇|青年|少年|小伙子|小伙|女生|男生|环卫工|行人|"
    r"[男女](?:乘客|游客|学生|工人|村民|行人|司机|员工|教师|老师|队员|船员|矿工)|"
    r"民警|警察|辅警|消防员|路人|车主|骑手|外卖小哥|外卖员|快递员|教师|老师|医生|护士|"
    r"干部|指挥官|女星|明星|歌手|演员|租客|房东|妻子|丈夫|母亲|父亲|儿子|女儿|受害人|受害者|"
    r"老板娘|老板|保安|男友|女友|枪手|凶手|歹徒|伤者|伤员|袭击者|暴徒|嫌犯|行凶者|女士|老翁|老妇|妇人|阿婆|屋主|"
    # A person by surname and sex (彭男当场惨死, 李女不幸身亡): Taiwanese reports; common surnames only.
    r"(?:王|李|张|刘|陈|杨|黄|赵|吴|周|徐|孙|马|朱|胡|郭|何|高|林|罗|郑|梁|谢|宋|唐|许|韩|冯|邓|曹|彭|曾|萧|肖|田|董|"
    r"袁|潘|蒋|蔡|余|杜|叶|程|苏|魏|吕|丁|任|沈|姚|卢|姜|崔|钟|谭|陆|汪|范|金|石|廖|贾|夏|韦|方|白|邹|孟|熊|秦|邱|江|"
    r"尹|薛|闫|段|雷|侯|龙|史|陶|黎|贺|顾|毛|郝|龚|邵|万|钱|严|覃|武|戴|莫|孔|向|汤|温|游|詹|赖|洪|柯|简|庄|翁|锺|"
    r"蓝|颜|涂|欧|施|傅|吕)[男女](?![子性童孩生士人友方儿婴宾])|"
    # A person by surname (黄姓男子, 李姓女驾驶, 蔡姓妇人): Taiwanese and Hong Kong reports.
    r"[\u4e00-\u9fff]姓(?:[男女](?:子|性|童|婴|驾驶员?|骑士|乘客|学生|工人|屋主|住户|老师|员工)?|妇人|老翁|老妇|老人|少年|少女|"
    r"驾驶员?|司机|骑士|乘客|屋主|住户|民众|工人|员工)|"
    r"[\u4e00-\u9fff]某(?:某|[甲乙丙丁])?(?!娱|小区|公司|地|处|医院|单位|网|酒店|学校|村|镇|县|市|区|工地|厂|品牌|些|种|天|日|年|时))"
)
# (Group nouns — 乘客, 游客, 村民, 学生, 工人, 伤者 … — are left out: a bare 乘客受伤 is as often
# several passengers as one.)
_NOT_COUNTED = (
    r"(?:(?<=[初高][一二三])|(?<=大[一二三四])|(?<![\d零〇一二两三四五六七八九十百千万名位个多数几些群批对双]))"
)
_NOT_PLURAL = r"(?![们等和与及、])"
# Gap between the victim and the verb: no clause break, quotation mark, number, other person or verb.
_ONE_GAP = r"[^ ，。；,;！？!?\n、：:“”\"「」\d零〇一二两三四五六七八九十百千万亿和与等们伤救困逃另死亡否]{0,16}?"
_DEATH_ONE = (
    r"(?:死亡|身亡|惨死|(?<!幸免)遇难|罹难|丧生|丧命|殒命|毙命|溺亡|溺毙|坠亡|殉职|不治|遇害|抢救无效|已无生命体征|死在|伤势?过重|"
    r"伤重(?:身亡|不治|死亡|离世)|"
    r"被[^，。；,;！？!?\n]{0,12}?[打砸撞刺杀烧闷炸勒掐摔淹压踩咬电]死|被[^，。；,;！？!?\n]{0,8}?击毙|"
    r"[触摔淹溺烧砸撞压电]死(?!刑|缓|角|者|伤)|"
    r"致死(?!率|病例)|离世|牺牲(?=了|$)|之死(?!亡)|(?:重|受)?伤(?:后|势过重)?(?:身亡|离世|死亡|不治))"
    r"(?!事故|案|原因|之|率|人数|证明|赔偿|真相|事件|现场|时间|者|的人)"
)
# (An injury the victim died of is a death: 重伤身亡, 受伤后死亡.)
_DIED_AFTER = (
    r"(?![^，。；,;！？!?\n\d]{0,3}?(?:身亡|离世|死亡|不治|抢救无效|医治无效|救治无效|而亡)"
    r"|[^，。；,;！？!?\n\d]{0,2}?[死亡])"
)
_INJURED_ONE = (
    r"(?<![未没无])(?:受伤(?!人员|者|的人|群众)|负伤|[烧烫砸撞摔刺炸咬割]伤(?!人)|轻微伤|受轻伤|轻伤(?!害))"
    + _DIED_AFTER
)
_SERIOUS_ONE = r"(?:受重伤|重伤(?!退役|缺阵|离场|者|人员)|伤势较重|伤势严重|伤势危重|伤情危重)" + _DIED_AFTER
_KILL_ONE = r"(?:撞死|砸死|烧死|刺死|砍死|打死|炸死|杀死|杀害|闷死|勒死|掐死|溺死|毒死)(?:了)?"
_VICTIM = _NOT_COUNTED + rf"(?P<num>{_ONE}){_NOT_PLURAL}"

_NEAR = r"[^，。；,;！？!?\n\d]{0,6}?"
_NOT_DIED = (
    r"(?![^，。；,;！？!?\n\d]{0,12}?(?:死亡|身亡|不治|遇难|抢救无效|离世|去世)"
    r"|[，,][^，。；,;！？!?\n\d零〇一二两三四五六七八九十]{0,12}?(?:死亡|身亡|不治|抢救无效|医治无效))"
)
_NEAR_KILL = r"[^，。；,;！？!?\n\d]{0,10}?"
_PAIR = r"(?:夫妻|夫妇|母子|母女|父子|父女|情侣|恋人|兄弟|姐妹|姐弟|兄妹|祖孙)"
_BEFORE_CAUSE = r"[^ ，。；,;！？!?\n\d因在于被]{0,4}?"
_CAUSE = r"(?:因|在|于|被|由于)[^ ，。；,;！？!?\n\d零〇一二两三四五六七八九十百千]{0,20}?"


_BARE = r"(?<![A-Za-z\d.\-·/:~－—])(?P<pre>)(?P<num>\d{1,5})(?P<q>余|多)?"
_NOT_NOUN = r"(?!人数|率|病例|者|事故|案)"
_REL = r"[^，。；,;！？!?\n、：:\d零〇一二两三四五六七八九十百千万亿伤死亡]{0,6}?(?:中)?(?:有|为|是|共有|共)?"
_REL_COUNTER = r"(?:人(?!民|次)|名|位|个)"
_LONG_GAP = r"[^，。；,;！？!?\n、：:\d零〇一二两三四五六七八九十百千万亿伤救困逃另死亡称说表示和与及]{0,24}?"
_STRICT_DEATH = (
    r"(?:死亡|身亡|遇难|罹难|丧生|殒命|溺亡|溺毙|坠亡|不治|抢救无效)"
    r"(?!事故|案|原因|之|率|人数|证明|赔偿|真相|事件|现场|时间|者|的人)"
)

# Coordinated counts (2名女童、4名女子及1名男子死亡; 三名司机和两名乘客受伤): the whole list is
# the ``num`` group and the caller adds up its items (COORD_ITEM). They run only on clauses with
# a conjunction and two numerals.
_ITEM_NUMBER = r"(?:\d+|[零〇一二两三四五六七八九十百千]+)(?:余|多)?"
_NOT_IN_NOUN = "和与及伤救困逃另死亡重轻失中遇难罹丧殒溺毙踪联送被"
_ITEM_NOUN = rf"[^，。；,;！？!?\n、：:\d零〇一二两三四五六七八九十百千万亿{_NOT_IN_NOUN}]{{0,8}}?"
COORD_ITEM = re.compile(rf"(?P<n>{_ITEM_NUMBER})")
# An item: a count with a counter and a noun (3名巴基斯坦士兵), a count of one sex (三男两女), or a
# count of a person noun (两民警一辅警, 2名警察). Items are joined by a conjunction, or by nothing
# when each names its people (三男两女, 2名警察1名辅警; not 7人落水4人死亡).
_TIGHT = rf"{_ITEM_NUMBER}(?:[名位个]?{_PERSON}|[名个]?[男女](?:性|子|孩|童|生)?)"
_LOOSE = rf"{_ITEM_NUMBER}(?:名|位|个|人(?!民)){_ITEM_NOUN}"
_ITEM = rf"(?:{_TIGHT}|{_LOOSE})"
_AND = "(?:、|和|及|与|以及|跟)"
_COORD = _PRE + rf"(?P<num>{_TIGHT}(?:{_AND}?{_TIGHT}){{1,6}}|{_ITEM}(?:{_AND}{_ITEM}){{1,6}})"
# One victim by role joined to counted ones (院长和一名5岁幼儿死亡, 驾驶及车上1名乘客死亡): the role
# is the ``lead`` and counts one more.
_LEAD = (
    _NOT_COUNTED
    + r"(?P<pre>)(?P<num>(?P<lead>"
    + rf"{_ONE}|驾驶人?|院长|园长|校长|厂长|店主|船长|村长|站长|队长|班长)"
    + rf"{_AND}[^，。；,;！？!?\n\d零〇一二两三四五六七八九十]{{0,4}}?"
    + rf"{_ITEM}(?:{_AND}{_ITEM}){{0,5}})"
)
_CN_OR_DIGIT = "\\d零〇一二两三四五六七八九十百千"
COORD_GATE = re.compile(rf"[{_CN_OR_DIGIT}][^，。；,;{_CN_OR_DIGIT}]{{1,10}}[{_CN_OR_DIGIT}]")

# A clause without one of these characters (after masking) states no count.
NUMERAL = re.compile(r"[\d零〇一二两三四五六七八九十百千万亿廿卅]")
# Only clauses containing one of these characters can state a fact; the full patterns (slow:
# they try every position) run on those clauses alone.
TRIGGER = re.compile(
    r"死|亡|遇难|罹难|丧|殒|毙|殉职|牺牲|不治|遇害|伤|失踪|失联|下落不明|疏散|转移|撤离|安置|受灾|聚集|围堵|围攻|械斗|斗殴|冲击|"
    r"生命体征|抢救无效|"
    r"上访|聚众|集体|堵路|游行|罢工|参与|涉及|中毒|症状|不适|呕吐|腹泻|腹痛|损失|失明|治疗|住院|尸|遗体|遗骸|"
    r"生命体征|生命迹象|生命征象|呼吸心跳|昏迷|抢救|救治|夺|送医|送院|击毙|患者|脱离|被送|失去联|不见踪影|命危|留院|留医|吞噬|带走|逝者|去世|病情|离世|急救"
)
# Patterns never span a comma or a sentence end, so clauses are cut there.
CLAUSE = re.compile(r"[^，,。；;！？!?\n]+")
# ... except a thousands separator (伤者6,986人), in texts that have one.
THOUSANDS = re.compile(r"\d,\d{3}(?!\d)")
CLAUSE_THOUSANDS = re.compile(r"(?:[^，,。；;！？!?\n]|(?<=\d),(?=\d{3}(?!\d)))+")


PEOPLE_PATTERNS: tuple[FactPattern, ...] = (
    _p("deaths", "total", COUNT + _WHO + _GAP + _DEATH_VERB + _VERB_TAKES_COUNT + _NOT_COMBINED),
    _p("deaths", "total", _KILL_FIRST + COUNT + _WHO),
    _p("deaths", "total", _KILL_FIRST + r"[^，。；,;！？!?\n\d]{1,8}?的" + COUNT + _WHO, gate="死"),
    # 无生命体征 is unambiguous: the gap may hold words the general gap refuses (2人被救出时已无生命体征).
    _p("deaths", "total", COUNT + _WHO + r"[^，。；,;！？!?\n\d]{0,12}?" + _NO_LIFE, gate="生命|呼吸心跳"),
    _p("deaths", "total", _DEATH_NOUN + r"(?:人数|人员|的人数|病例|数)?" + _LINK + NOUN_COUNT + _NOT_NEXT),
    _p("deaths", "total", COUNT + r"死(?!里逃生|刑|缓|角|者|伤|亡人数|亡率|亡病例)", gate="死"),
    _p(
        "missing",
        "total",
        COUNT + _WHO_LIVING + _GAP + _MISSING_VERB + _VERB_TAKES_COUNT + r"(?![和或、及与]?(?:死亡|遇难))",
        gate="失踪|失联|下落不明|失去联|不见踪影",
    ),
    _p(
        "missing",
        "total",
        r"(?<!死亡)(?<!死亡和)(?<!死亡或)(?<!死亡及)(?<!死亡、)"
        + _MISSING_VERB
        + r"(?:(?:和|或|及|、)"
        + _MISSING_VERB
        + r")?(?:人数|人员|者)?"
        + _LINK
        + NOUN_COUNT
        + _NOT_NEXT,
    ),
    _p("injured", "serious", COUNT + _WHO_LIVING + _GAP + _SERIOUS + _VERB_TAKES_COUNT + _NOT_DIED, gate=_SERIOUS_GATE),
    _p("injured", "serious", r"(?:重伤|危重|重度(?:受)?伤)(?:人数|人员|者)?" + _LINK + NOUN_COUNT + _NOT_NEXT),
    _p(
        "injured",
        "light",
        rf"(?<![重受])轻伤(?:的)?(?:人数|人员|者|{_PERSON})?" + _LINK + NOUN_COUNT + _NOT_NEXT,
        gate="轻伤",
    ),
    # Moderately hurt (中度伤14人, 4人中度烧伤): a part of the injured like the seriously hurt.
    _p("injured", "moderate", r"中度(?:受)?[烧烫]?伤(?:人数|人员|者)?" + _LINK + NOUN_COUNT + _NOT_NEXT, gate="中度"),
    _p("injured", "moderate", COUNT + _WHO_LIVING + _GAP + r"中度(?:受)?[烧烫]?伤", gate="中度"),
    _p("injured", "minor", COUNT + _WHO_LIVING + _GAP + _MINOR, gate="轻微伤"),
    _p(
        "injured",
        "light",
        COUNT + _WHO_LIVING + _GAP + _LIGHT + _VERB_TAKES_COUNT,
        gate="轻伤|伤势较轻|伤势不|伤情|伤势|轻度受伤|脱离|生命危险|生命体征",
    ),
    _p("injured", "total", COUNT + _WHO_LIVING + _GAP + _INJURED + _VERB_TAKES_COUNT, gate="伤"),
    # Hurt without an injury word: 一人失明, 一人还在医院接受治疗, 8人住院治疗.
    _p(
        "injured",
        "total",
        COUNT + _WHO_LIVING + _GAP + _TREATED + _DIED_AFTER,
        gate="失明|治疗|住院|昏迷|医院|送医|送院|救治|留院|留医",
    ),
    _p("injured", "total", _HURT_FIRST + r"(?:一家|□□)?" + COUNT + _WHO),
    # Bare 死 / 伤 before a count of people: 死1人伤35人, 侧翻伤两人.
    # (Not 3人死7人伤: a 死 after a count closes that count's statement.)
    _p(
        "deaths",
        "total",
        r"(?<![人名生吓笑气累乐该找装拼\d一二两三四五六七八九十])死(?:了)?" + NOUN_COUNT + r"(?:人(?!民)|名)",
    ),
    _p("injured", "total", r"(?<![受重轻损创悲忧感中])伤(?:了)?" + NOUN_COUNT + r"(?:人(?!民|心)|名)" + _VERB_END),
    _p("injured", "admitted", _ADMIT + COUNT + r"(?:名|位)?(?:伤者|伤员|伤病员|受伤群众)"),
    _p("injured", "total", COUNT + r"(?:名|位)?送(?:医|院)(?:的)?(?:患者|伤者|伤员|民众|病人)", gate="送医|送院"),
    _p("injured", "total", r"(?:受伤|伤者|伤员|伤患|伤病员|伤病)(?:人数|人员)?" + _LINK + NOUN_COUNT + _NOT_NEXT),
    # Phase 12. In hospital, verb first: 住院治疗604人, 重伤住院64人, 留院观察3人.
    _p(
        "injured",
        "total",
        r"(?:住院治疗|住院观察|住院|留院观察|门诊治疗)(?:的)?(?:人数|人员|患者|伤员|伤者)?"
        + _LINK
        + NOUN_COUNT
        + r"(?:人(?!民)|名|位|例)"
        + _NOT_NEXT,
        gate="住院|留院|门诊",
    ),
    # Phase 13. A bare count before 亡 (3亡70伤) or a death after people sent to hospital (4人送医1不治).
    _p("deaths", "total", COUNT + r"亡(?![命羊故])", gate="亡"),
    _p("deaths", "total", r"(?<=[医院伤])" + COUNT + r"(?:人|名)?(?:宣告)?(?:不治|死亡)", gate="不治|死亡"),
    # 死于洪灾16人; 受伤乘客共有8名; 砍伤了村里的11名老人; 被砍伤的1名老人和2名小孩.
    _p("deaths", "total", COUNT + _WHO + r"(?:已|已经)?去世", gate="去世"),
    _p("deaths", "total", r"死于[^，。；,;！？!?\n\d]{1,6}?" + COUNT + r"(?:人(?!民)|名)", gate="死于"),
    _p(
        "injured",
        "total",
        rf"受伤(?:的)?(?:{_PERSON}|人员|者|民众|师生)(?:共有|共|有|为|达)" + COUNT + r"(?:人(?!民)|名|位)",
        gate="受伤",
    ),
    _p("injured", "total", _HURT_FIRST + r"[^，。；,;！？!?\n\d]{1,8}?的" + COUNT + _WHO, gate="伤"),
    # Phase 14. A fall before the verb (两游客失足坠亡; the general gap refuses 失, for 失踪).
    _p("deaths", "total", COUNT + _WHO + r"失足[^，。；,;！？!?\n\d]{0,4}?" + _DEATH_VERB, gate="失足"),
    # Phase 14. Bodies counted after the noun: 搜救出遇难者遗体43具.
    _p("deaths", "total", r"(?:遗体|尸体|遗骸)" + _LINK + NOUN_COUNT + r"具", gate="遗体|尸体|遗骸"),
    # A fatal crash at a stated place (发生一起死亡车祸): at least one death; the dead
    # described as one person (死者姓刘, 死者今年20多岁); 被烧死的是一名男子.
    _p(
        "deaths",
        "total",
        r"(?<![防免止杜绝减少遏制])发生(?:了)?(?:一起|一宗|起)?[^，。；,;！？!?\n\d]{0,10}?(?P<pre>)(?P<num>死亡)"
        r"(?:车祸|事故|意外|交通事故)(?!率|人数|起数|[\d一二两三四五六七八九十]+起|□)",
        implied=True,
        gate="死亡",
    ),
    _p(
        "deaths",
        "total",
        r"(?<![名位\d一两二三四五六七八九十□])(?P<pre>)(?P<num>死者)(?:姓|今年|年约|年仅|系|生前|骑|驾驶|酒测值|则是|为男|为女)",
        implied=True,
        gate="死者",
    ),
    _p(
        "deaths",
        "total",
        r"(?:被[^，。；,;！？!?\n\d]{0,4}?[烧砸撞压淹闷炸]死|死亡|遇难|丧生|罹难)的(?:是|为)" + COUNT + _WHO,
        gate="的是|的为",
    ),
    # The seriously hurt by an attributive: 伤势严重的4人.
    _p(
        "injured",
        "serious",
        r"(?:伤势|伤情)(?:较为|比较)?(?:较重|严重|危重)的" + COUNT + r"(?:人(?!民)|名)",
        gate="伤势|伤情",
    ),
    # 1死14轻重伤, 2死1中毒: a count right after a death or injury count.
    _p(
        "injured",
        "total",
        r"(?<=[死伤])" + COUNT + r"(?:轻重伤|重轻伤|中毒|命危|重伤|轻伤)",
        gate="轻重伤|重轻伤|中毒|命危|重伤|轻伤",
    ),
    # The dead by their count as wounded: 5名伤者送院经抢救后证实不治.
    _p(
        "deaths",
        "total",
        COUNT + r"(?:名|位)?(?:重伤者|伤者|伤员|伤患)[^，。；,;！？!?\n\d]{0,14}?(?:不治|抢救无效|死亡|身亡|离世|去世)",
        gate="伤[者员患]",
    ),
    # The one who killed himself (…砍伤10名学生，后自杀身亡): one death, not the last people named.
    _p("deaths", "total", r"(?P<pre>)(?P<num>自杀|自尽)(?:身亡|死亡)", implied=True, gate="自杀|自尽"),
    _p("injured", "total", COUNT + r"伤(?![心害痕疤口势情者员亡残])", gate="伤"),
    _p(
        "injured",
        "poisoned",
        COUNT + _WHO + _GAP + _POISONED + _DIED_AFTER,
        gate="中毒|症状|不适|就医|就诊|呕吐|腹泻|腹痛|发热|发烧|头晕|恶心",
    ),
    # Implied single victims (value 1): a named role + death / injury verb, verb + named role,
    # 致其死亡, 受伤司机.
    _p("deaths", "total", _VICTIM + _ONE_GAP + _DEATH_ONE, implied=True),
    # (The victim may be described at some length: 刺死该校三年级学生刘某宸.)
    _p("deaths", "total", _KILL_ONE + _NEAR_KILL + _VICTIM + r"(?!的?(?:事故|事件|悲剧|新闻))", implied=True),
    _p("deaths", "total", r"致(?P<num>其)[^，。；,;！？!?\n\d]{0,4}?(?:死亡|身亡)", implied=True),
    _p("injured", "serious", _VICTIM + _ONE_GAP + _SERIOUS_ONE, implied=True),
    _p("injured", "total", _VICTIM + _ONE_GAP + _INJURED_ONE, implied=True),
    _p("injured", "total", r"(?:受轻伤|受伤)(?:的)?" + _VICTIM, implied=True),
    _p("deaths", "total", r"(?:死亡|丧生|遇难|罹难|身亡|遇害)的" + _VICTIM, implied=True),
    # Phase 6. The dead (or injured) named as one person: 死者王某今年24岁, 伤者为74岁何姓男子;
    # one person's body: 文某遗体在下游被发现, 女孩的遗体被找到; a pair with no signs of life.
    _p(
        "deaths",
        "total",
        r"(?<![名位])死者(?:为|是)?(?:一名)?[^，。；,;！？!?\n\d]{0,4}?" + _VICTIM,
        implied=True,
        gate="死者",
    ),
    _p("injured", "total", r"伤者(?:为|是)?(?:一名)?[^，。；,;！？!?\n\d]{0,4}?" + _VICTIM, implied=True, gate="伤者"),
    _p("deaths", "total", _VICTIM + r"(?:的)?(?:遗体|尸体)", implied=True, gate="遗体|尸体"),
    _p(
        "deaths",
        "total",
        r"(?P<pre>)(?P<num>" + _PAIR + r")[俩二两]?[^，。；,;！？!?\n\d]{0,8}?" + _NO_LIFE,
        numeral=False,
        gate="生命|呼吸",
    ),
    _p("injured", "total", _HURT_FIRST + _NEAR + _VICTIM, implied=True),
    # Counted injured as a noun: 10名伤者被送到…, 2名伤者伤势稳定; 两重伤.
    # (Not when they died: 另外一名伤者已不幸死亡.)
    _p(
        "injured",
        "total",
        COUNT + r"(?:名|位|个)?(?:[^，。；,;！？!?\n\d]{1,6}?的)?(?:伤者|伤员|受伤者|受伤人员)" + _NOT_DIED,
        gate="伤[者员]|受伤人员",
    ),
    _p("injured", "serious", COUNT + r"重伤" + _NOT_DIED, gate="重伤"),
    # 一对母子 / 夫妻双双 + death verb: two.
    _p("deaths", "total", r"(?P<pre>)(?P<num>一对)" + _PAIR + _GAP + _DEATH_VERB),
    _p("deaths", "total", r"(?P<pre>)" + _PAIR + _NEAR + r"(?P<num>双双)" + _GAP + _DEATH_VERB, numeral=False),
    # A count with a role noun the short gap cannot hold: 一名伤者已不幸死亡, 一名女队员遇难.
    _p("deaths", "total", COUNT + r"(?:名|位|个)[^，。；,;！？!?\n\d]{0,2}?" + _ONE + _ONE_GAP + _DEATH_ONE),
    # A cause or place between count and verb may be long: 32人因饮用含有毒物质的自酿酒丧生.
    _p("deaths", "total", COUNT + _WHO + _BEFORE_CAUSE + _CAUSE + _DEATH_VERB, gate="[因在于被]"),
    # Bodies found: 已找到12具遗体, 发现一具女性尸体.
    _p(
        "deaths",
        "total",
        COUNT + r"具[^，。；,;！？!?\n]{0,12}?(?:遗体|尸体|遗骸|尸首|尸骨|男尸|女尸|焦尸|浮尸)",
        gate="具",
    ),
    # Phase 10. 一名失踪台湾游客 (an attributive); 溺亡两孩子.
    _p(
        "missing",
        "total",
        COUNT + r"(?:名|位)(?:失踪|失联)(?:的)?[^，。；,;！？!?\n\d]{0,4}?" + rf"(?:{_PERSON}|人员|者)",
        gate="失踪|失联",
    ),
    _p("deaths", "total", r"溺亡(?:的)?" + COUNT + _WHO, gate="溺亡"),
    # Phase 8. 寻获3人遗体; 1女性死者, 唯一一名死者; 一死九失踪.
    _p("deaths", "total", COUNT + r"人的?(?:遗体|尸体|遗骸)", gate="遗体|尸体|遗骸"),
    _p("deaths", "total", COUNT + r"(?:名|位|具)?[男女]?性?死者", gate="死者"),
    _p("missing", "total", r"(?<=[死伤])" + COUNT + r"(?:失踪|失联)", gate="失踪|失联"),
    # Phase 6. Lives taken: 大火夺5命, 夺走3条人命, 夺去2人性命.
    _p(
        "deaths",
        "total",
        r"(?:夺|夺走|夺去|吞噬|带走)(?:了)?" + COUNT + r"(?:条|人)?(?:人|生|性)?命(?![令运名中题])",
        gate="夺|吞噬|带走",
    ),
    # Bodies of counted people: 两名学生的尸体, 3名失联人员遗体.
    _p(
        "deaths",
        "total",
        COUNT
        + r"(?:名|位)[^，。；,;！？!?\n\d]{0,6}?"
        + rf"(?:人员|者|人|{_PERSON}|{_ONE}|[男女]性?)的?(?:遗体|尸体|遗骸)",
        gate="遗体|尸体|遗骸",
    ),
    # A count without a counter, opening its clause before a cause: 17在事故中死亡.
    _p("deaths", "total", r"^(?P<pre>)(?P<num>\d+)(?=[在因于被])" + _CAUSE + _DEATH_VERB),
    # Killed in pairs: 撞死双胞胎姐妹.
    _p("deaths", "total", r"(?P<pre>)" + _KILL_ONE + _NEAR + r"(?:双胞胎)?(?P<num>" + _PAIR + ")", numeral=False),
    # Updates from one figure to another: 死亡人数由6人增至11人.
    _p("deaths", "total", _DEATH_NOUN + r"(?:人数)?(?:已)?(?:由|从)" + NUMBER_PATTERN + r"人?" + COUNT),
    # Phase 5. Counts without a counter word: 两轻伤, 三轻微伤; an Arabic count right before its
    # verb (6人死亡11受伤), not part of a code, date or range (H1N1死亡, 2018-2019死亡人数).
    _p("injured", "light", COUNT + r"轻伤(?!害)", gate="轻伤"),
    _p("injured", "minor", COUNT + r"轻微伤", gate="轻微伤"),
    _p(
        "injured",
        "total",
        _BARE + r"(?:受伤|负伤|昏迷|[擦挫烧烫砸撞刺咬]伤)" + _NOT_NOUN,
        gate=r"\d[余多]?(?:受伤|负伤|昏迷|[擦挫烧烫砸撞刺咬]伤)",
    ),
    _p(
        "deaths",
        "total",
        _BARE + r"(?:死亡|遇难|身亡|丧生|罹难)" + _NOT_NOUN,
        gate=r"\d[余多]?(?:死亡|遇难|身亡|丧生|罹难)",
    ),
    _p("missing", "total", _BARE + r"(?:失踪|失联)" + _NOT_NOUN, gate=r"\d[余多]?失[踪联]"),
    _p("injured", "total", _BARE + r"送(?:医|院)(?!后|途中|不治)" + _DIED_AFTER, gate=r"\d送[医院]"),
    _p("missing", "total", COUNT + _WHO_LIVING + r"包括[^，。；,;！？!?\n]{1,10}?" + _MISSING_VERB, gate="包括"),
    _p("deaths", "total", COUNT + _WHO + r"包括[^，。；,;！？!?\n]{1,10}?" + _STRICT_DEATH, gate="包括"),
    # The count after a relative clause: 遇难的乘客已达56人, 受伤的村民有12名, 失踪的渔民为3人.
    _p("deaths", "total", r"(?:死亡|遇难|罹难|丧生|身亡|溺亡|溺毙|坠亡)的" + _REL + COUNT + _REL_COUNTER),
    _p("injured", "total", r"受伤的" + _REL + COUNT + _REL_COUNTER),
    _p("missing", "total", r"(?:失踪|失联)的" + _REL + COUNT + _REL_COUNTER + r"(?!中|之中|里)"),
    # Counted as injured by an attributive: 一受伤的乘客, 两名受伤的工人, 3名受轻伤者.
    _p(
        "injured",
        "total",
        COUNT
        + r"(?:名|位|个)?受轻?伤(?:的)?[^，。；,;！？!?\n\d]{0,4}?"
        + rf"(?:者|人员|人(?!民)|{_PERSON}|{_ONE})"
        + _NOT_DIED,
        gate="受轻?伤",
    ),
    # A counted person described at length before the verb (一名在工地干活的外地工人于昨日死亡):
    # only with a counter for people and an unambiguous death verb.
    _p("deaths", "total", COUNT + r"(?:名|位)" + _LONG_GAP + _STRICT_DEATH, gate="[名位]"),
    # A pair lost: 一对父子登山失踪, 姐弟二人外出后双双失联.
    _p("missing", "total", r"(?P<pre>)(?P<num>一对)" + _PAIR + _GAP + _MISSING_VERB),
    _p("missing", "total", r"(?P<pre>)" + _PAIR + _NEAR + r"(?P<num>双双)" + _GAP + _MISSING_VERB, numeral=False),
    _p("people_involved", "evacuated", _EVACUATE + r"(?:了)?" + _SHORT_GAP + COUNT + _COUNTER),
    _p("people_involved", "evacuated", COUNT + _COUNTER + _GAP + r"(?:被)?" + _EVACUATE, gate="疏散|转移|撤离|安置"),
    _p(
        "people_involved",
        "affected",
        r"受灾(?:人口|群众|人数)?(?!死亡|受伤|失踪|遇难)" + _SHORT_GAP + COUNT + _COUNTER,
    ),
    _p("people_involved", "participants", COUNT + _COUNTER + _GAP + _GATHER, gate=_GATHER),
    _p("people_involved", "participants", r"(?:参与|涉及)(?:人数|人员)?" + _SHORT_GAP + COUNT + _COUNTER),
)

# Coordinated counts: the ``num`` group holds the list; facts.py sums COORD_ITEM over it.
LEAD_PATTERNS: tuple[FactPattern, ...] = (
    _p("deaths", "total", _LEAD + _GAP + _DEATH_VERB + _VERB_TAKES_COUNT, summed=True),
    _p("injured", "total", _LEAD + _GAP + _INJURED + _VERB_TAKES_COUNT, summed=True),
)
LEAD_GATE = re.compile(r"[和及与跟、]")
COORD_PATTERNS: tuple[FactPattern, ...] = (
    _p("deaths", "total", _COORD + _GAP + _DEATH_VERB + _VERB_TAKES_COUNT, summed=True),
    _p("missing", "total", _COORD + _GAP + _MISSING_VERB + _VERB_TAKES_COUNT, summed=True),
    _p("injured", "serious", _COORD + _GAP + _SERIOUS + _VERB_TAKES_COUNT, summed=True),
    _p("injured", "total", _COORD + _GAP + _INJURED + _VERB_TAKES_COUNT, summed=True),
    # Phase 12. Verb first or by an attributive: 砍伤16名学生和1名教师, 受伤的3位老师和14名幼童.
    _p("injured", "total", _HURT_FIRST + _COORD, summed=True),
    _p("injured", "total", r"受伤的" + _COORD, summed=True),
    _p("injured", "total", r"被[砍刺撞砸烧打炸咬]伤的" + _COORD, summed=True),
    # 伤者包括14男15女, 受伤者包含22名学生和1名群众, 死者包括2名工人和1名路人.
    _p("injured", "total", r"(?:受伤者|伤者|伤员|受伤人员)(?:中)?(?:包括|包含|中有|为|有)" + _COORD, summed=True),
    _p("deaths", "total", r"(?:死者|遇难者|罹难者|遇难人员)(?:中)?(?:包括|包含|为|有)" + _COORD, summed=True),
)

_MONEY = _PRE + rf"(?P<num>{NUMBER_PATTERN})(?P<q>余|多)?(?P<mul>千万|百万|万|亿)?(?P<q2>余|多)?"
_LOSS_NOUN = r"(?:直接)?(?:经济|财产)损失"
LOSS_PATTERNS: tuple[FactPattern, ...] = (
    _p(
        "economic_loss_cny",
        "total",
        _LOSS_NOUN + r"(?:估计|初步估算|初步统计)?" + _SHORT_GAP + _MONEY + r"(?:人民币)?元?",
    ),
    _p("economic_loss_cny", "total", _MONEY + r"(?:人民币)?元(?:的|左右的)?" + _LOSS_NOUN),
)

# "No casualties" statements: the fields they set to zero.
ZERO_PATTERN = re.compile(
    r"(?:无(?<!有无)|没(?<!有没)有|未|暂无|尚无|并无|未发现|未有)(?:发生|出现)?"
    r"(?:(?:造成)?(?:任何)?(?:人员|人)?(?:受困|被困)?(?P<what>伤亡)|"
    r"(?:造成(?:任何)?(?:人员|人)?|(?:任何)?(?:人员|人))(?:因此|因而|在[^，。；,;！？!?\n\d]{1,6}?中)?(?:受困|被困)?(?P<what2>死亡|受伤)(?:或|和|及|或者)?(?P<what3>受伤)?)"
)
ZERO_FIELDS = {"伤亡": ("deaths", "injured"), "死亡": ("deaths",), "受伤": ("injured",)}

# Numbers that are not headcounts: ages, dates, times, distances, weights, ordinals …
MASK_PATTERN = re.compile(
    r"(?<=拨打)(?:120|110|119)|第[\d一二三四五六七八九十]+|\d{1,2}[·•]\d{1,2}|"
    # Full dates (2024/10/03, 2024-10-03), chemical names with numerals (一氧化碳), the last one.
    r"(?<=其中|另外)一(?=[名位]?(?:死者|遇难者))|一(?:直|度|同|并|些|切|般|定|边|再|时|路|带|样|致|旁|起(?!事故|事件))|(?<=另)一(?=[名位]?(?:死者|遇难者))|"
    r"\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}|[一二三四五六七八九]旬|[初高][一二三](?=学生|男生|女生|年级|班|学子)|大[一二三四](?=学生|男生|女生|学子|年级)|"
    r"[\d一二两三四五六七八九十]+男[\d一二两三四五六七八九十]+女(?=[\d一二两三四五六七八九十]+[名个位人])|"
    r"(?<=[名个位人])[\d一二两三四五六七八九十]+男[\d一二两三四五六七八九十]+女|[一二三四五六]氧化[一二三四五]?[碳氮硫铁]?|三聚氰胺|四氯化碳|"
    r"(?:120|110|119)(?=急救|救护|医护|赶到|到场|抢救|送医|送往)|"
    + NUMBER_PATTERN
    + r"(?:多|余|几)?(?:岁|周岁|年|月|日|号|时|点|分钟|分|秒|小时|个小时|个多小时|个钟头|天|周|公里|千米|米|"
    r"吨|辆|次|层|楼|栋|间|户|亩|公顷|度|级|%|‰|个月|家|起|处|座|艘|架|条|所|元|万元|亿元|年级|班)(?<!条(?=人命|命|生命))"
)
# A clause with one of these words reports statistics or a hypothesis, not one event: its numbers
# are ignored.
STATISTICS_PATTERN = re.compile(
    r"每年|每天|每月|每日|年均|平均每|全年|去年同期|今年以来(?!最)|年以来(?!最)|同比|历年|历史上|以往|近年来|多年来|"
    r"近[\d一二两三四五六七八九十]+年|如果|假如|倘若|一旦|万一|要是|"
    # Counts of events (45万起, 97起, 14件火警), quarters and month ranges, rates per population.
    # (Not 造成30余起交通事故: one snowstorm's pile-ups are one event.)
    r"(?:共|接报|报告|总数为?|总件数|累计|统计)[^，。；,;！？!?\n]{0,6}?"
    r"(?:\d{2,}|\d+(?:\.\d+)?万\d*|[一二两三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九十]+[百千万])(?:余|多)?[起件](?!床|诉)|"
    r"季度|上半年|下半年|[\d一二三四五六七八九十]{1,2}(?:至|到|-)[\d一二三四五六七八九十]{1,3}月(?!\d|[一二三四五六七八九十]{1,2}日)|"
    r"每[\d一二两三四五六七八九十百千万]+万?人(?!数)|"
    # Phase 6 (statistics pages and rules on government sites): counts of events in a period or
    # a region (今年全国发生…35起, 据不完全统计发生…70余起), a table cell of events (118起 |),
    # figures per event (分别造成), thresholds (一次死亡10人以上, 10人以上30人以下), a flood season.
    # (Not 自6月以来…其中31人死亡 nor 最新数据显示: an epidemic's or a typhoon's toll is its own.)
    r"(?:全国|全省|全市|全区|全球|今年|本年|年度|本月|上月|期间|以来|累计|共|总|统计|报告)[^，。；,;！？!?\n]{0,20}?"
    r"(?:\d[\d ]*|[一二两三四五六七八九十百千万]+)(?:余|多)?[起件](?!床|诉)|"
    r"\d+(?:余|多)?起 *\||分别(?:造成|致)|"
    r"入[汛夏冬]以来|\d+起[、,，] *|第[一二三四1-4]季|"
    r"各[种类][^，。；,;！？!?\n]{0,10}?(?:事故|灾害|冲突|袭击|事件|案件)|"
    r"\d{4}年[^，。；,;！？!?\n]{0,10}?(?:我国|全国|全省|全市|全球|全世界)|(?:过去|近)[\d一二两三四五六七八九十]+个?月|世纪以来(?!最)|"
    r"\d+例[^，。；,;！？!?\n]{0,12}?事故|"
    # Phase 13: several disasters or cases (多起灾害共造成, 分别发生两起, 3起…案件), a month's national
    # figure (三月份我国因食物中毒死亡12人), a span up to now (由2016年至今). (Not 多起事故 / 五宗连环相撞
    # 意外 / 台风期间1400宗事故: one storm's or one fog's crashes are one event.)
    r"多起[^，。；,;！？!?\n]{0,8}?(?:灾害|案件)|分别发生[^，。；,;！？!?\n]{0,4}?[两三四五六七八九十\d]+起|"
    r"[两三四五六七八九十\d]+[起宗][^，。；,;！？!?\n]{0,12}?案件|"
    r"[\d一二三四五六七八九十]+月份[^，。；,;！？!?\n]{0,4}?(?:我国|全国|全省|全市|全区)|\d{4}年至今"
)
# Cues that begin with the count itself (143例…溺亡事故, 27起、死亡118人).
STATISTICS_AT = re.compile(r"\d+例[^，。；,;！？!?\n]{0,12}?事故|\d+起[、,，]")
# Cues that mark a statistic wherever they stand in the sentence (…死亡25人，同比减少7起).
STATISTICS_SENTENCE = re.compile(
    r"同比|环比|去年同期|与上年同期|同期相比|以上[^，。；,;！？!?\n]{0,6}?以下|一次(?:死亡|造成)"
)
CLAUSE_START = re.compile(r"[。；;！？!?\n]")

# A clause whose death verb has no subject of its own (…不慎坠楼，当场身亡 / …，经抢救无效死亡):
# the victims are the last people the sentence named before it.
# An adverb of mishap may come after a few words of what happened (翻越围墙时不幸被勒身亡,
# 边玩手机边充电突遭电击身亡).
SUBJECTLESS_DEATH = re.compile(
    r"^(?:(?:当场|不幸|意外|最终|终|后|经|送|于|在|已|均|全部|都|随后|随即|不慎|先后|因|溺水|突遭|突然|虽|仍|再|又|但|却|证实|确认|宣告|"
    r"(?:今天|昨天|当天|当晚|次日|今晨|今日|昨日)?(?:凌晨|上午|中午|下午|晚上|晚间)?宣告|"
    r"[^\d零〇一二两三四五六七八九十百千万亿人名位死亡伤他她其]{1,8}?(?:不幸|意外|当场|突遭))"
    r"[^\d零〇一二两三四五六七八九十百千万亿人名位死亡伤]{0,10}?)?"
    r"(?:死亡|身亡|遇难|罹难|丧生|丧命|殒命|溺亡|溺毙|坠亡|不治|抢救无效|医治无效|救治无效|急救无效|死在|"
    + _NO_LIFE
    + r"|被[^，。；,;！？!?\n\d]{0,6}?[闷打砸撞刺杀烧炸勒掐摔淹压踩咬电]死|被[^，。；,;！？!?\n\d]{0,10}?致死)"
    r"(?!事故|案|原因|之|率|人数|证明|赔偿|真相|事件|现场|时间|者|的人|病例)"
)
# A clause saying that all of them were hurt (…一共有8人，全部不同程度受伤): the count is the last
# people the sentence named, as for SUBJECTLESS_DEATH.
SUBJECTLESS_INJURY = re.compile(
    r"^(?:全部|均|都|全都|悉数|全员|无一幸免)(?:已|已经)?(?:不同程度(?:地)?)?"
    r"(?:受伤|受了伤|负伤|[烧烫撞砸炸摔]伤|受到[^，。；\d]{0,4}?伤|(?:出现[^，。；\d]{0,10}?)?中毒|出现[^，。；\d]{0,10}?症状)"
)
# Who a sentence names: a count of people (4名小学生, 一名来自外地的女性游客, 一男子) or one
# victim by role.
# (Not the agent of a passive: in 一学生被五名学生殴打…，抢救无效后死亡 the victim is the one.)
SUBJECT = re.compile(
    r"(?<![第被])"
    + COUNT
    + r"(?:(?:名|位|个)[^，。；,;！？!?\n\d]{0,10}?"
    + rf"(?:{_ONE}|{_PERSON}|人)|人(?!民|员|次)|{_PERSON})"
    + r"|"
    + _NOT_COUNTED
    + rf"(?P<one>{_ONE}){_NOT_PLURAL}"
)
# Asides about a person in brackets — (女,24岁,江西瑞金人) — are not clauses of the sentence.
# So are breakdowns of a count by sex: 十人(六男四女)当场死亡.
PERSON_ASIDE = re.compile(
    r"[（(](?:(?:男|女)[^（）()]{0,40}|"
    r"(?<=[人名位伤亡死][（(])(?=[^（）()]{0,20}[男女])"
    r"[\d零〇一二两三四五六七八九十男女性名人个位、，,及和 ]{1,20})[）)]"
)
