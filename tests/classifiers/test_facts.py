"""Table tests of fact extraction: numerals, qualifiers, multipliers, ranges, updates, spans."""

from __future__ import annotations

import pytest

from classifiers import extract_facts

CASES = [
    ("事故共造成3人死亡，2人受伤", {"deaths": 3, "injured": 2}),
    ("已确认3人死亡，87人受伤", {"deaths": 3, "injured": 87}),
    ("造成二死二伤", {"deaths": 2, "injured": 2}),
    ("苏州三车追尾造成4死3伤", {"deaths": 4, "injured": 3}),
    ("一名50岁男子当场死亡", {"deaths": 1}),
    ("共造成17人死亡、1人重伤，4人轻伤，28人轻微伤", {"deaths": 17, "serious_injured": 1, "injured": 33}),
    ("造成3人死亡、12人重伤", {"deaths": 3, "serious_injured": 12, "injured": 12}),
    ("事故造成十二人遇难、三十余人受伤", {"deaths": 12, "injured": 30}),
    ("死亡人数上升至12人", {"deaths": 12}),
    ("此前已有5人死亡。截至今日，死亡人数已增至18人，受伤人数增至24人", {"deaths": 18, "injured": 24}),
    ("造成直接经济损失约1200万元", {"economic_loss_cny": 12_000_000}),
    ("直接經濟損失3.5億元，３人死亡", {"economic_loss_cny": 350_000_000, "deaths": 3}),
    ("造成约500万元的经济损失", {"economic_loss_cny": 5_000_000}),
    ("3至5人失踪", {"missing": 3}),
    ("另有2人下落不明", {"missing": 2}),
    ("疏散220余名民众", {"people_involved": 220}),
    ("约300余人聚集在市政府门口", {"people_involved": 300}),
    ("紧急转移安置1.2万人", {"people_involved": 12_000}),
    ("近30人死亡", {"deaths": 30}),
    ("目前暂无人员伤亡", {"deaths": 0, "injured": 0}),
    ("学校58名学生出现呕吐、腹泻等症状", {"injured": 58}),
    ("据统计，该国每年约有1800人死于道路交通事故。", {}),
    ("大楼坍塌已致42人死伤", {}),
    ("男子从三楼坠落，3日凌晨送医", {}),
    # counts without a counter word: the person noun stands in for it
    ("两男子受重伤", {"serious_injured": 2, "injured": 2}),
    ("一环卫工被撞身亡", {"deaths": 1}),
    ("一家六口全部遇难", {"deaths": 6}),
    ("四口人被严重烧伤", {"injured": 4}),
    # deaths implied by the state of the victim
    ("2人被救出时已无生命体征", {"deaths": 2}),
    ("3人送医后经抢救无效", {"deaths": 3}),
    ("4名被困人员中3人因伤势过重死亡", {"deaths": 3}),
    # verb before the count
    ("轿车失控冲上人行道撞伤6名行人", {"injured": 6}),
    ("货车侧翻砸死2人", {"deaths": 2}),
    # counts spread over clauses: each hospital's intake adds up
    ("市人民医院收治7名伤者，中医院收治4名伤者", {"injured": 11}),
    ("共有11人受伤，其中市人民医院收治7名伤者", {"injured": 11}),
    ("火灾无人伤亡", {"deaths": 0, "injured": 0}),
    # one victim named without a number counts as one (phase 3)
    ("面包车司机不幸身亡", {"deaths": 1}),
    ("轿车撞桥起火，司机不幸被烧身亡", {"deaths": 1}),
    ("拿刀插入男友前胸导致其身亡", {"deaths": 1}),
    ("轿车在古城撞死行人", {"deaths": 1}),
    ("孙某乙被送往医院途中死亡，而刘某、孙某甲等人分别逃走", {"deaths": 1}),
    ("两名工人是母子关系，母亲不幸身亡，儿子受重伤", {"deaths": 1, "serious_injured": 1, "injured": 1}),
    ("三轮车撞伤老人后逃逸", {"injured": 1}),
    ("受伤司机胡某告诉记者", {"injured": 1}),
    ("受害人沈某鋆(女,24岁,江西瑞金人)抢救无效死亡", {"deaths": 1}),
    # the subject of a clause without one is the last people the sentence named
    ("一名不到两岁的小孩不慎坠楼，当场身亡", {"deaths": 1}),
    ("四川宜宾4名小学生河边玩耍，意外溺水身亡", {"deaths": 4}),
    ("2人受伤，枪手自杀身亡", {"deaths": 1, "injured": 2}),
    # (one figure for the dead and the missing together is neither field: phase 6-10 convention)
    ("受灾人口675万人，因灾死亡失踪83人", {"people_involved": 6_750_000}),
    ("一对母子当场身亡", {"deaths": 2}),
    ("年轻夫妻在家中双双身亡", {"deaths": 2}),
    # long gaps and updates from one figure to another
    ("至少32人因饮用含有毒物质的自酿酒丧生", {"deaths": 32}),
    ("暴雨导致该县死亡人数由6人增至11人", {"deaths": 11}),
    ("已知有10名伤者被送到市第一医院救治", {"injured": 10}),
    ("两死两重伤", {"deaths": 2, "serious_injured": 2, "injured": 2}),
    ("2名警员在抢险救灾途中殉职", {"deaths": 2}),
    ("杭州18岁小伙子洗澡触电死", {"deaths": 1}),
    ("1岁女童被摔死", {"deaths": 1}),
    ("两幼童疑因玩打火机起火不幸身亡", {"deaths": 2}),
    # hypotheses and multi-year statistics are not this event's casualties
    ("如果他闯入停机楼，他将使数百人丧生", {}),
    ("近3年已有5名环卫工人死于交通事故", {}),
    # not victims: sport, figures of speech, group nouns, survivors
    ("杜兰特因伤退赛", {}),
    ("胡德受伤倒地不起，被两人搀扶离场", {}),
    ("平衡木公主重伤退役", {}),
    ("库里杀死了比赛", {}),
    ("中国女足逼平西班牙，从死亡之组突围", {}),
    ("车上乘客受伤", {}),
    ("皮卡车内乘客均幸免遇难", {}),
    ("死亡事故已介入调查", {}),
    ("男子发“淹死万源”评论被行拘", {}),
    # phase 4: a count read whole (死亡982人受伤 is not 98 dead; 死亡20余人受伤 is not 20 dead)
    ("地震已造成38人死亡982人受伤", {"deaths": 38, "injured": 982}),
    ("客车相撞致5人死亡20余人受伤", {"deaths": 5, "injured": 20}),
    ("遭雷暴袭击致5人丧生百余人伤", {"deaths": 5, "injured": 100}),
    ("造成3人死7人伤", {"deaths": 3, "injured": 7}),
    ("69227人死亡374643人受伤17923人失踪", {"deaths": 69227, "injured": 374643, "missing": 17923}),
    # a verb followed by its own count takes it: the count before belongs elsewhere
    ("小车坠入河中，被困六人溺死四人", {"deaths": 4}),
    ("暴雨因灾死亡7人失联1人", {"deaths": 7, "missing": 1}),
    ("死1人伤35人", {"deaths": 1, "injured": 35}),
    ("面包车超车侧翻伤两人", {"injured": 2}),
    ("当场死亡了一人，另有3人受伤", {"deaths": 1, "injured": 3}),
    ("为何美军只死了27人", {"deaths": 27}),
    ("32人亡50人送医治疗", {"deaths": 32, "injured": 50}),
    # hurt without an injury word
    ("一人当日死亡，一人还在医院接受治疗", {"deaths": 1, "injured": 1}),
    ("造成四人丧命，一人失明", {"deaths": 4, "injured": 1}),
    ("其中2人已无大碍自行回家，另有8人住院治疗", {"injured": 8}),
    ("当时她在第三人民医院住院", {}),
    ("我是一个双目失明的残疾人", {}),
    # large vague counts, bodies, a count without a counter
    ("四川汶川强地震近万人丧生", {"deaths": 10_000}),
    ("1972年曾发生7级地震，致万余人死亡", {"deaths": 10_000}),
    ("成昆铁路甘洛段垮塌已找到12具疑似失联人员遗体", {"deaths": 12}),
    ("车里发现一具男性尸体", {"deaths": 1}),
    ("机上原本有35人，结果只有18人活了下来，17在事故中死亡", {"deaths": 17}),
    ("确认四名中国公民在4·21袭击事件中遇难", {"deaths": 4}),
    # an injury the victim died of is a death
    ("将一名过街行人撞伤最终身亡", {"deaths": 1}),
    ("舞台焰火设备突然爆炸，女星表演中重伤身亡", {"deaths": 1}),
    ("男童被遗忘在校车致死", {"deaths": 1}),
    ("酒驾撞死6岁双胞胎姐妹", {"deaths": 2}),
    # a past event is still this sentence's casualties; "有没有伤亡" states nothing
    ("狮航去年10月一架飞机坠毁，导致机上189人全部遇难", {"deaths": 189}),
    ("不知道有没有伤亡", {}),
    # one victim: a school grade is not a count; 丧生的驾驶员; 被…闷死 carries the last victim
    ("初一男生走斑马线被撞身亡", {"deaths": 1}),
    ("在纽约坠机事故中丧生的驾驶员不具备资质", {"deaths": 1}),
    ("宝宝竟因保姆疏忽，被活活闷死在车中", {"deaths": 1}),
    ("女孩毕某某在水池内摔倒，经市第一医院抢救无效后死亡", {"deaths": 1}),
    # phase 5: coordinated counts add up (train: 2名女童、4名女子及1名男子死亡)
    ("造成2名女童、4名女子及1名男子死亡", {"deaths": 7}),
    ("目前已有至少3名巴基斯坦士兵及5名印度士兵死亡", {"deaths": 8}),
    ("两名司机和三名乘客受伤", {"injured": 5}),
    ("3名船员与2名渔民失踪", {"missing": 5}),
    # lists without a conjunction when each item names its people (train: 三男两女全部死亡)
    ("轿车内的三男两女全部死亡", {"deaths": 5}),
    ("一男一女溺水身亡", {"deaths": 2}),
    ("致两民警一辅警受伤", {"injured": 3}),
    ("货车司机将2名警察1名辅警撞伤", {"injured": 3}),
    ("快艇倾覆，7人落水4人死亡", {"deaths": 4}),
    ("车内两女一人无碍一人受伤", {"injured": 1}),
    ("包括9名外国人在内的至少90人死亡", {"deaths": 90}),
    ("车上乘客约有10人轻微擦伤", {"injured": 10}),
    ("女子是否受伤仍不清楚", {}),
    # a breakdown by sex in brackets is an aside
    ("造成面包车上11人（5女6男）全部死亡", {"deaths": 11}),
    ("九人(五男四女)受伤", {"injured": 9}),
    # the count after a relative clause
    ("遇难的乘客已达56人", {"deaths": 56}),
    ("受伤的村民超过20人", {"injured": 20}),
    ("失踪的渔民有3人", {"missing": 3}),
    # counts without a counter word; not codes or year ranges
    ("事故造成3人死亡8受伤", {"deaths": 3, "injured": 8}),
    ("致一死两轻伤", {"deaths": 1, "injured": 2}),
    ("三轻微伤", {"injured": 3}),
    ("H1N1死亡病例已达81例", {"deaths": 81}),
    ("2018-2019死亡人数下降", {}),
    # an attributive 住院 describes the victim, it is not an injury
    ("一名住院的老年患者于昨晚死亡", {"deaths": 1}),
    ("住院的病人很多", {}),
    ("一名在工地干活的40多岁外地工人于昨日下午死亡", {"deaths": 1}),
    # a subject without a counter word, or described at length, is carried to a later clause
    ("一女子从五楼坠落，不幸当场死亡", {"deaths": 1}),
    ("两男子在河中游泳，不慎溺水身亡", {"deaths": 2}),
    ("一名来自广东的男性游客，在海边拍照时，不慎落水身亡", {"deaths": 1}),
    ("一名初中生在河边玩耍，脚下打滑不幸溺水身亡", {"deaths": 1}),
    ("男孩在家中玩手机，突遭电击身亡", {"deaths": 1}),
    # pairs lost; verb-first killing; 牺牲 at the end of a clause
    ("一对母女登山失联", {"missing": 2}),
    ("姐弟俩外出后双双失踪", {"missing": 2}),
    ("涉嫌溺死女婴", {"deaths": 1}),
    ("再也听不到河里淹死小孩的事故了", {}),
    ("一名民警在执行任务时不幸牺牲", {"deaths": 1}),
    ("牺牲休息时间加班", {}),
    # counted as injured by an attributive; 之死; hypotheses with 一旦; idioms with 死
    ("车内一受伤的乘客无法救出", {"injured": 1}),
    ("两名受伤的工人被送往医院", {"injured": 2}),
    ("女驴友王某某之死为意外事故", {"deaths": 1}),
    ("一旦砸伤行人就要担责", {}),
    ("这是一个无解的死结", {}),
    # the injured victim who then died is a death, not also an injury; 伤者 dies as one victim
    ("一男子酒后驾驶摩托车发生事故,导致后座其母亲摔倒受伤,经抢救无效死亡", {"deaths": 1}),
    ("肇事驾驶员驾车逃逸,伤者因伤势过重死亡", {"deaths": 1}),
    ("送到医院的另外一名伤者已不幸死亡", {"deaths": 1}),
    # (phase 6: a victim is counted once — the one who died leaves the injured)
    ("3人受伤，其中1人经抢救无效死亡", {"deaths": 1, "injured": 2}),
    ("伤者已无生命危险", {}),
    # a count after 被 is the agent, not the victims
    ("一学生被五名学生强行殴打致重伤,在送医院抢救无效后死亡", {"deaths": 1}),
    ("学生家长王某建刺死该校三年级学生刘某宸", {"deaths": 1}),
    # not victims: escape (逃亡), searchers, durations, a count before 重伤 is not the dead
    ("10名游客在泰国遭恐吓、大逃亡", {}),
    ("500余人搜寻失联女孩", {}),
    ("与家人失联约10个小时", {}),
    ("失联十几个小时后告知退出", {}),
    ("大巴翻车,4人死亡26人重伤", {"deaths": 4, "serious_injured": 26, "injured": 26}),
    # an exact figure within a vaguer one's range is the same count, stated precisely
    ("近万人丧生。九千二百余人死亡", {"deaths": 9200}),
    ("近30人死亡。经核实，28人死亡", {"deaths": 28}),
    ("5人死亡。截至目前近30人死亡", {"deaths": 30}),
    ("数百人受伤。其中352人受伤", {"injured": 352}),
    ("约50人失踪。目前48人失踪", {"missing": 48}),
    ("30余人受伤，8人死亡。医院收治32人受伤", {"deaths": 8, "injured": 32}),
    # phase 6 (web news): numbers set off by spaces, pinyin inserted after characters
    ("事故共造成 4 人遇难，重伤 11 人", {"deaths": 4, "serious_injured": 11, "injured": 11}),
    # (a space before a number alone is a headline's separator: not read past)
    ("4人中毒惨死 13人送医", {"deaths": 4, "injured": 13}),
    ("9名工人疑似硫化氢中毒已致5死", {"deaths": 5, "injured": 4}),
    ("一家三口全部中毒，2人死亡", {"deaths": 2, "injured": 1}),
    ("两位逾八旬老人身亡", {"deaths": 2}),
    ("致1男1女两名工人受伤", {"injured": 2}),
    ("4名初三学生溺亡", {"deaths": 4}),
    ("另外两名路人伤势不算太重", {"injured": 2}),
    ("两名乘客从车窗摔出，再被翻滚的车辆滚压致死", {"deaths": 2}),
    ("12具疑似福景001遇难者遗体被发现", {"deaths": 12}),
    ("已有179人死亡，伤者6,986人", {"deaths": 179, "injured": 6986}),
    ("施救不当让 1 人遇难变成 3 人殒命", {"deaths": 3}),
    ("事故導(dǎo)致2人當(dāng)場死亡", {"deaths": 2}),
    # a full date is not a count; nobody trapped or hurt
    ("教室沙发燃烧无人受困受伤2024/10/03", {"injured": 0}),
    # a chemical's numeral does not break the gap; the poisoned who died are dead only
    ("导致3人一氧化碳中毒身亡", {"deaths": 3}),
    ("烧烤炉未灭导致4人中毒身亡", {"deaths": 4}),
    # lives taken; no signs of life; bodies of counted people
    ("民宅大火夺5命", {"deaths": 5}),
    ("山体滑坡夺走3条人命", {"deaths": 3}),
    ("1位乘客救出时已无生命迹象", {"deaths": 1}),
    ("两名学生的尸体被打捞上岸", {"deaths": 2}),
    ("已找到3名失联人员遗体", {"deaths": 3}),
    ("6名医护人员涉侮辱尸体罪被捕", {}),
    # the one who died of injuries leaves the injured (a victim is counted once)
    ("现场死亡3人，受伤4人；伤者已送医，其中1人经抢救无效死亡", {"deaths": 4, "injured": 3}),
    # a victim by role joined to counted ones; a person by surname
    ("造成园长和一名5岁幼儿死亡，3名幼儿受伤", {"deaths": 2, "injured": 3}),
    ("驾驶人吴某及车内的1名乘客当场死亡", {"deaths": 2}),
    ("李姓女驾驶被救出，送医后仍不治身亡", {"deaths": 1}),
    # all of them hurt; moderately hurt is a part of the injured; sent to hospital; coma
    ("车内一共有8人，全部不同程度受伤，其中两名伤势较重", {"injured": 8, "serious_injured": 2}),
    ("造成重度伤10人、中度伤4人，另有数十人轻伤", {"injured": 34, "serious_injured": 10}),
    ("一名工人被送往县医院进行抢救", {"injured": 1}),
    ("救起10人，其中1人昏迷", {"injured": 1}),
    # one person named as the dead or the injured; one person's body; a pair with no signs of life
    ("死者王某今年24岁", {"deaths": 1}),
    ("伤者为74岁何姓男子", {"injured": 1}),
    ("落水女孩马某的遗体已被打捞上岸", {"deaths": 1}),
    ("夫妻俩被救出时已无生命迹象", {"deaths": 2}),
    ("该男子已伤重身亡", {"deaths": 1}),
    ("死者家属情绪激动", {}),
    # one figure for the dead and the missing together is neither
    ("已造成至少66万人受灾、15人死亡失踪", {}),
    ("登记失踪和失去联系人员107人", {"missing": 107}),
    ("失联的53人中已有46人获救，4人仍然失联", {"missing": 4}),
    # statistics: counts of events, quarters, month ranges, rates
    ("今年全国已接报火灾45万起，死亡947人", {}),
    ("年假期间共发生14件火警，造成4人死亡、4人受伤", {}),
    ("1至9月交通事故死亡人数2161人", {}),
    ("每10万人死亡比例最高", {}),
    ("大雪路面结冰，造成30余起交通事故，导致1人死亡，5人受伤", {"deaths": 1, "injured": 5}),
    ("全国发生一次死亡10人以上特大事故35起，死亡549人", {}),
    ("道路交通发生7起，死亡25人，同比减少7起、36人", {}),
    ("造成10人以上30人以下死亡的事故", {}),
    ("天然气事故118起 | 死亡6人 | 受伤39人 |", {}),
    ("两起事故分别造成12人遇难和18人遇难", {}),
    ("台风已经造成日本全国66人死亡，212人受伤，15人失踪", {"deaths": 66, "injured": 212, "missing": 15}),
    ("被困井下的八名矿工生死不明", {}),
    ("其中一名死者名叫刘某", {}),
    ("36人送医院救治，其中5人死亡", {"deaths": 5, "injured": 31}),
    # phase 8: deaths on the spot and in care add up, as do "another N"; found missing are not missing
    ("4人当场死亡，3名重伤者在送往医院途中不治", {"deaths": 7}),
    ("落水者中有12人当场死亡，在送往医院抢救中又有8人死亡", {"deaths": 20}),
    ("有三人送院抢救无效死亡，消防也在现场发现七具遗体", {"deaths": 10}),
    ("造成5人死亡，其中3人当场死亡，2人经抢救无效死亡", {"deaths": 5}),
    ("送院的4名伤者中，3人因伤重不治身亡", {"deaths": 3, "injured": 1}),
    ("搜救出31名失联人员，均无生命体征", {"deaths": 31}),
    ("事故导致3人遇难，1名失联人员被找到且安全回家", {"deaths": 3}),
    ("进山采蘑菇失联的4人已找到2人，经确认已遇难", {"deaths": 2, "missing": 4}),
    ("堰塞湖回淹 一死九失踪", {"deaths": 1, "missing": 9}),
    ("目前已寻获3人遗体，仍有24人失联", {"deaths": 3, "missing": 24}),
    ("警消在火场发现1女性死者，另有15人轻重伤", {"deaths": 1, "injured": 15}),
    ("高墙倒塌，砸死下方吃饭的6人", {"deaths": 6}),
    ("| 死亡人数 | 1人 |", {"deaths": 1}),
    ("女童触电身亡|八大危险区域", {"deaths": 1}),
    ("10人不幸遇难，70人尚在医院救治，4人未受伤", {"deaths": 10, "injured": 70}),
    ("同行一名16岁少年一直失联", {"missing": 1}),
    ("经各方全力搜救已寻回三人，证实全部死亡", {"deaths": 3}),
    # (fixes after the eighth set was scored)
    ("观光潜艇沉海三人失踪 另有一人获救", {"missing": 3}),
    ("搜救人员仍在寻找最后一名失踪人员下落", {"missing": 1}),
    ("3名伤者分别为55岁女性驾驶，无呼吸心跳；女性乘客陷入昏迷", {"injured": 3}),
    ("23人当场死亡，3人受伤，其中一名伤者被送入医院救治后因伤势过重，经抢救无效死亡", {"deaths": 24, "injured": 2}),
    ("被困14人，救出13人(已死亡6人)，1人正在施救", {"deaths": 6}),
    # phase 9: the seriously hurt listed before "N人受伤" are another group; clauses that each open
    # with a count of dead add up; found missing; survivors are not the dead; surnames and titles
    ("事故造成2人死亡，12人失踪，4人重伤，30人受伤", {"deaths": 2, "missing": 12, "serious_injured": 4, "injured": 34}),
    ("导致34人受伤，重伤有8人", {"injured": 34, "serious_injured": 8}),
    ("5人被困井下身亡，1人抢救无效死亡，另有1人正在抢救", {"deaths": 6}),
    ("5人一氧化碳中毒，2人送医后死亡，2人经抢救无效离世，1人已脱离危险", {"deaths": 4, "injured": 1}),
    ("有2人死亡与其有关，另1人死亡与其是否有关正在调查中", {"deaths": 3}),
    ("失联的6名小学生被搜寻到，已经全部溺水死亡", {"deaths": 6}),
    ("一名失联仓库管理人员已确认死亡", {"deaths": 1}),
    ("共有32人出现身体不适，其中1名80多岁的男子不治死亡", {"deaths": 1, "injured": 31}),
    ("两人受困车内，其中驾驶当场失去呼吸心跳，送医抢救后不治，整起事故造成1死3伤", {"deaths": 1, "injured": 3}),
    ("1人死亡23人获救", {"deaths": 1}),
    ("台风致15人死亡 失踪人数还有17人", {"deaths": 15, "missing": 17}),
    ("8人受伤 袭击者被击毙", {"deaths": 1, "injured": 8}),
    ("三名初中生因野浴两人溺亡", {"deaths": 2}),
    ("最前方的女士送医后不治", {"deaths": 1}),
    ("造成5名学生严重受伤，数十人轻伤", {"injured": 25, "serious_injured": 5}),
    ("2名送医患者均为女性", {"injured": 2}),
    ("有5人正在接受急救人员的治疗", {"injured": 5}),
    ("两名受困人员已不幸罹难", {"deaths": 2}),
    ("一名男童不慎溺水，后经120送医抢救无效身亡", {"deaths": 1}),
    ("近170名学生送院", {"injured": 170}),
    # phase 10: animals; combined dead-or-missing; 2死14人失踪; one person unhurt is no zero for the event
    ("牲畜死亡4384头", {}),
    ("七百五十多人死亡或下落不明", {}),
    ("死亡和失踪者增至27343人", {}),
    ("大桥崩塌，造成10车坠河、2死14人失踪", {"deaths": 2, "missing": 14}),
    ("肇事司机在事故中并未受伤", {}),
    ("事故发生后，有2人自救撤离，没有受伤", {}),
    ("两人送医后没有生命危险", {"injured": 2}),
    ("两人送医后均于2日被宣告不治", {"deaths": 2}),
    ("一名失踪台湾游客仍未找到", {"missing": 1}),
    ("溺亡两孩子是双胞胎兄弟", {"deaths": 2}),
    ("四人被困，最终两人因抢救无效死亡，一人重度烧伤，一人轻伤", {"deaths": 2, "serious_injured": 1, "injured": 2}),
    ("五人不幸遇难，一人尚未脱离生命危险", {"deaths": 5, "serious_injured": 1, "injured": 1}),
    ("两员工身亡", {"deaths": 2}),
    ("瓦斯事故共发生27起、死亡118人；较大以上瓦斯事故14起、死亡99人", {}),
    ("各种恐怖袭击和暴力冲突共导致8868人死亡", {}),
    ("中国第一季有五十九人因食物中毒死亡", {}),
    # phase 11: pinyin then spaced numbers; 罹难者增至; 仍有N人失联 is the missing now; 廿; surnames with a
    # sex; injured-or-frightened is neither; stable injured are light; statistics by year and country
    ("遇難人數(shù)增至 5 人,失聯(lián) 13 人", {"deaths": 5, "missing": 13}),
    ("令事故罹难者增至18人", {"deaths": 18}),
    ("27名失联人员中已找获3人，确认无生命迹象，仍有24人失联", {"deaths": 3, "missing": 24}),
    ("已致13人死亡，17人受伤，目前仍有4名伤者尚未脱离生命危险", {"deaths": 13, "injured": 17}),
    ("宁夏大巴翻侧六死廿一伤", {"deaths": 6, "injured": 21}),
    ("土城一家2天内1死7送医", {"deaths": 1, "injured": 7}),
    ("彭男当场惨死，4名乘客轻伤", {"deaths": 1, "injured": 4}),
    ("13名儿童不同程度受伤或受惊吓，2名成人受伤", {"injured": 2}),
    (
        "伤者中1人经抢救无效死亡，3人重伤正在抢救，2人伤情比较稳定，2人轻微伤已自行离院",
        {"deaths": 1, "serious_injured": 3, "injured": 7},
    ),
    ("火灾导致八人遇难，一名消防员殉职，另有五人受轻伤", {"deaths": 9, "injured": 5}),
    ("事件造成2人死亡，另有19人入院治疗", {"deaths": 2, "injured": 19}),
    ("事发后有5名村民被送到镇上的医院", {"injured": 5}),
    ("液化气泄漏引发爆炸 烧伤一家三口", {"injured": 3}),
    ("8人包括4名小童一度失踪", {"missing": 8}),
    ("大风吹翻游船 1童遇难14失踪", {"deaths": 1, "missing": 14}),
    ("4名流血不止的伤者被送往医院", {"injured": 4}),
    ("2019年地震灾害造成我国19人死亡，427人受伤", {}),
    ("过去两个月，三省都发生过校车事故，27名学童死亡", {}),
    ("143例未成年人暑期溺亡事故中，多半发生在农村", {}),
    ("四川内江发生三次地震已致1死29伤", {"deaths": 1, "injured": 29}),
    # figures for different places add up; parts of a total stated first do not
    ("陕西省有5人死亡、5人失踪，重庆市有2人死亡、2人失踪，湖北省有1人死亡", {"deaths": 8, "missing": 7}),
    ("地震已致甘肃113人死亡、536人受伤，青海海东市18人遇难、198人受伤", {"deaths": 131, "injured": 734}),
    ("全省共导致156人死亡，其中甲市有80人死亡、乙市有76人死亡", {"deaths": 156}),
    ("爆炸事故已造成四死七伤，其中三人当场死亡，一人送医途中死亡", {"deaths": 4, "injured": 7}),
    # Phase 12 (constructed after the misses of the 900 phase-12 web sentences).
    ("事故已造成2人死亡，5人受伤，4人失去联系", {"deaths": 2, "injured": 5, "missing": 4}),
    ("车上另有2人不见踪影", {"missing": 2}),
    ("1人死亡，3人治疗中", {"deaths": 1, "injured": 3}),
    ("另有4名工人在医院进一步治疗中", {"injured": 4}),
    ("其余2人目前仍在救治当中", {"injured": 2}),
    ("目前共收治住院治疗120人，其中重症患者8人", {"injured": 120}),
    ("火灾造成5人死亡，3人留院观察", {"deaths": 5, "injured": 3}),
    ("两人命危，三人受伤", {"injured": 5, "serious_injured": 2}),
    ("另3人伤势也不轻", {"injured": 3, "serious_injured": 3}),
    ("伤势严重的2人仍在医院", {"injured": 2, "serious_injured": 2}),
    ("该县因灾伤病40人，其中重伤6人", {"injured": 40, "serious_injured": 6}),
    ("其余4人暂无生命危险", {"injured": 4}),
    ("硫酸泄漏 3人死亡20人住院", {"deaths": 3, "injured": 20}),
    ("化工厂毒气泄漏致1死4中毒", {"deaths": 1, "injured": 4}),
    ("客车与货车相撞造成2死9轻重伤", {"deaths": 2, "injured": 9}),
    ("爆炸死亡数升至6人", {"deaths": 6}),
    ("全市因灾死亡人数今天上升至十二人", {"deaths": 12}),
    ("官方将死亡人数从20人下修至18人", {"deaths": 18}),
    ("致12.5万人受灾死亡2人", {"deaths": 2}),
    ("3名男子“拼死”尝鲜", {}),
    ("一男子持刀砍伤6名路人，后自杀身亡", {"deaths": 1, "injured": 6}),
    ("其中2人因伤重抢救无效死亡", {"deaths": 2}),
    ("另一重伤者送医院抢救无效死亡", {"deaths": 1}),
    ("其中1人救治无效死亡", {"deaths": 1}),
    ("2名伤者送院后证实不治", {"deaths": 2}),
    ("其余3人则无受伤", {}),
    ("所幸未造成人员死亡或受伤", {"deaths": 0, "injured": 0}),
    ("事件中并无人因此受伤", {"injured": 0}),
    ("大火吞噬了三条生命", {"deaths": 3}),
    ("地震致甲县3人死亡，乙县某镇2人死亡", {"deaths": 5}),
    ("其中，甲区1名消防员遇难，乙镇1名干部遇难", {"deaths": 1}),
    ("4名伤员被送往市医院，其余3名伤员在当地医院接受治疗", {"injured": 7}),
    ("1名男子送院后证实不治，另外有5人受伤送院", {"deaths": 1, "injured": 5}),
    ("男子持刀砍伤5名学生和1名教师", {"injured": 6}),
    ("目前已有50人遇难，其中，甲县遇难人数增至30人，乙县遇难人数增至12人", {"deaths": 50}),
    ("目前已有50人遇难，当中，甲县遇难人数增至30人，乙县遇难人数增至12人", {"deaths": 50}),
    ("网传化工厂爆炸死亡50人不实，实际死亡12人", {"deaths": 12}),
    ("网传某地爆炸致50人死亡，经核实系谣言，实际无人员伤亡", {"deaths": 0, "injured": 0}),
    ("化工厂爆炸致3人死亡。网传死亡人数达50人，经核实不属实", {"deaths": 3}),
    ("初报7人失联，已寻获其中4人，目前仍有3人下落不明", {"missing": 3}),
    ("游客挤落山坡 1擦伤", {"injured": 1}),
    ("男子持刀伤害5名路人", {"injured": 5}),
    ("网上欺凌同属伤害16人涉案被捕", {}),
    ("伤者包括4男3女，分别送往两间医院", {"injured": 7}),
    ("受伤者包含12名学生和1名家长", {"injured": 13}),
    ("男乘客送院后证实不治，另外三名伤者仍在医院留医", {"deaths": 1, "injured": 3}),
    # Phase 13 (constructed after the misses of the thirteenth set).
    ("浓雾致高速公路多车相撞 2亡15伤", {"deaths": 2, "injured": 15}),
    ("化工厂气体外泄 5人送医1不治", {"deaths": 1, "injured": 4}),
    ("10人吸入有毒气体送医，另有1人死亡", {"deaths": 1, "injured": 10}),
    ("3名工人中毒而亡", {"deaths": 3}),
    ("4人因烧伤及吸入性损伤死亡", {"deaths": 4}),
    ("化工厂集体中毒4人没有死亡", {}),
    ("另1名受伤人员因伤势过重抢救无效死亡", {"deaths": 1}),
    ("其中一名伤员在救护车上离世", {"deaths": 1}),
    ("一名男子持刀砍人 1人死亡12师生受伤", {"deaths": 1, "injured": 12}),
    ("该乡重伤三人﹐轻伤十人", {"injured": 13, "serious_injured": 3}),
    ("另有6人病情危重", {"injured": 6, "serious_injured": 6}),
    ("其余9人生命体征平稳", {"injured": 9}),
    ("受伤乘客共有6名", {"injured": 6}),
    ("男子砍伤了村里的5名老人", {"injured": 5}),
    ("被砍伤的2名老人和1名小孩已送医", {"injured": 3}),
    ("受伤的7个孩子都是同班同学", {"injured": 7}),
    ("所幸无人在事故中受伤", {"injured": 0}),
    ("现在两人去世，一人失踪", {"deaths": 2, "missing": 1}),
    ("死于洪灾9人", {"deaths": 9}),
    ("安置户300余人，协议签订后已有几位老人去世", {"people_involved": 300}),
    ("据统计，多起灾害共造成12人死亡、3人失踪", {}),
    ("该县1月5日、9日分别发生两起疑似食物中毒事件，一人死亡", {}),
    ("三月份我国因食物中毒死亡20人", {}),
    ("短短10天发生3起恶性案件，造成11死2伤", {}),
    ("暴雨引发多起事故，至少9人死亡", {"deaths": 9}),
    ("浓雾中五宗连环相撞意外，两死十四伤", {"deaths": 2, "injured": 14}),
    ("5名死者当中，3男1女在甲医院证实不治，1女在乙医院证实死亡", {"deaths": 5}),
    # Phase 14 (constructed after the misses of the fourteenth set).
    ("某县今日清晨发生一起死亡车祸", {"deaths": 1}),
    ("全市发生死亡交通事故2起，造成2人死亡", {}),
    ("要严防发生死亡事故", {}),
    ("据悉，死者姓刘，今年39岁", {"deaths": 1}),
    ("其中一死者姓余", {}),
    ("经查，被烧死的是一名男子", {"deaths": 1}),
    ("车上有12具焦尸", {"deaths": 12}),
    ("目前有3名乘客病情危重，轻伤乘客有15名", {"injured": 18, "serious_injured": 3}),
    ("大雾致高速多车相撞 3死20余受伤", {"deaths": 3, "injured": 20}),
    ("两人被烧伤另有一人死亡", {"deaths": 1, "injured": 2}),
    ("宿舍起火 3女生跳楼身亡", {"deaths": 3}),
    ("一名大四女生坠楼身亡", {"deaths": 1}),
    ("2人死亡9人被困", {"deaths": 2}),
    ("蕲春县1人死亡5人失踪，英山县1人失踪", {"deaths": 1, "missing": 6}),
    ("消防人员发现1名失联人员，目前已死亡", {"deaths": 1}),
    ("搜救方暂未发现6名失踪船员", {"missing": 6}),
    ("现场共有12人，3人失联，其他均安全撤离", {"missing": 3}),
    ("半世纪以来最严重的风灾，死亡人数增加到103人", {"deaths": 103}),
    ("南非4工人疑沼气中毒亡", {"deaths": 4}),
    ("一名被蜇村民因伤势严重，经全力抢救无效死亡", {"deaths": 1}),
    ("两人伤势严重，一人死亡", {"deaths": 1, "injured": 2, "serious_injured": 2}),
    ("机上3人被送医，其中2人急救无效", {"deaths": 2, "injured": 1}),
    ("其中1名重伤者当天经抢救无效死亡，另外2名重伤者于次日不治", {"deaths": 3}),
    ("已搜救出遇难者遗体12具", {"deaths": 12}),
    ("甲处有两人被落石击中死亡，乙处亦有一名司机丧生", {"deaths": 3}),
    ("这次强降雨没有发生人员伤亡事故", {"deaths": 0, "injured": 0}),
    ("村里12人失踪死亡", {}),
    ("母子二人一死一命危", {"deaths": 1, "injured": 1}),
    ("景区发生两游客失足坠亡事故", {"deaths": 2}),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_extracts_numbers(text: str, expected: dict[str, float]) -> None:
    facts = extract_facts(text).to_dict()
    got = {k: v for k, v in facts.items() if k != "spans" and v is not None}
    assert got == expected


def test_spans_point_into_the_original_text() -> None:
    text = "據報道，事故已致３人死亡、十二人受傷"
    facts = extract_facts(text)
    assert facts.deaths is not None and facts.injured is not None
    assert text[facts.deaths.start : facts.deaths.end] == facts.deaths.text == "３人死亡"
    assert facts.injured.text == "十二人受傷"


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [
        ("约30人死亡", "approx"),
        ("30余人死亡", "more_than"),
        ("30多人死亡", "more_than"),
        ("近30人死亡", "nearly"),
        ("超过30人死亡", "more_than"),
        ("3至5人死亡", "range"),
        ("数十人死亡", "vague"),
        ("30人死亡", "exact"),
    ],
)
def test_qualifiers(text: str, qualifier: str) -> None:
    fact = extract_facts(text).deaths
    assert fact is not None and fact.qualifier == qualifier


def test_nearly_counts_one_below_for_grading() -> None:
    facts = extract_facts("近30人死亡")
    assert facts.at_least("deaths") == 29


def test_range_keeps_upper_bound() -> None:
    fact = extract_facts("3至5人死亡").deaths
    assert fact is not None and (fact.value, fact.upper) == (3, 5)


def test_update_wins_over_larger_earlier_number() -> None:
    facts = extract_facts("初步统计20人受伤。经核实，受伤人数下调，后受伤人数升至15人")
    assert facts.value("injured") == 15
