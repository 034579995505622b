"""Every word the visual side shows, in English and Chinese (`--lang zh`), and the fonts to show
them with.

`text(key, lang)` looks a label up; `LABELS[key]` is `(english, chinese)`. Keeping both in one
table means a new label cannot be added in one language only (a test checks the table).
"""

import warnings

import matplotlib
from matplotlib import font_manager

from sim.labels import LANGS, OUTCOMES

# key: (English, Chinese)
LABELS: dict[str, tuple[str, str]] = {
    # ---- the app -----------------------------------------------------------------------------
    "title": ("Shequ: community governance, day by day", "社区治理：一天一天地看"),
    "graph_title": ("Neighbourhood graph, day {day} of {days}", "邻里网络图：第 {day} 天 / 共 {days} 天"),
    "plots_title": ("By class: rates over the last 30 days, and funds left",
                    "分类比较：近 30 天的比率与剩余经费"),
    "story_title": ("One grievance's story", "一件诉求的经历"),
    "another": ("Another grievance", "换一件诉求"),
    "facts_title": ("This run", "本次运行"),
    "run_title": ("Run", "运行"),
    "mesa_buttons": (("Reset: a new run with the settings below · ▶ play, ❚❚ pause · Step: the "
                      "next {days} day(s), as at this speed"),
                     "Reset：按下面的设置重新开始 · ▶ 播放，❚❚ 暂停 · Step：前进 {days} 天（随速度而定）"),
    "speed": ("Speed: up to {speed} days a second", "速度：每秒最多 {speed} 天"),
    "hide_levers": ("Hide the levers", "隐藏参数栏"),
    "show_levers": ("Show the levers", "显示参数栏"),
    "levers_title": ("Policy levers: act from the next day", "政策参数：从下一天起生效"),
    "apply_hint": (("A lever moved during a run acts from the next day; the plots mark the day. "
                    "Press Step or ▶ to see it."),
                   "运行中调整的参数从下一天起生效，图中会标出这一天。请按 Step 或 ▶ 查看。"),
    "lever_from_day": ("from day {day}", "第 {day} 天起"),
    "hold_note": (("Holding the city total of {total:,} yuan: the classes you did not move are "
                   "scaled to keep it."), "保持全市总额 {total:,} 元：未调整的类别按比例随之变化。"),
    "scheme_note": (("Divided {scheme}: the amounts shown are each class's mean; the sliders act "
                     "when the scheme is by class."),
                    "经费{scheme}分配：显示的是各类平均值；选择按类别分配后滑块才起作用。"),
    "city_title": ("The city: applies at Reset", "城市设定：按 Reset 后生效"),
    "city_hint": (("These define the city and its classes, so they start a new run: press Reset. "
                   "The previous run stays in the plots, dotted, for comparison."),
                  "这些设定决定城市与社区分类，需重新开始：请按 Reset。上一次运行会以虚线留在图中，便于比较。"),
    "scenario": ("Scenario", "情景"),
    "scale": ("Scale: residents simulated", "模拟比例"),
    "scale_value": ("1 in {inv:,} ({residents:,} residents)", "每 {inv:,} 人模拟 1 人（{residents:,} 位居民）"),
    "next_run": ("Waiting for Reset: {what}", "按 Reset 后生效：{what}"),
    "replay_fixed": ("A replayed run keeps its own scenario, scale and seed.",
                     "回放的运行保持原有的情景、比例和随机种子。"),
    # ---- monitors ----------------------------------------------------------------------------
    "monitors_kpi": ("Of reported cases (the city's KPIs), last 30 days",
                     "已受理诉求（城市考核指标），近 30 天"),
    "monitors_iceberg": ("Counting every grievance, silent ones too", "计入全部诉求（包括未反映的）"),
    "monitors_residents": ("Residents, on average", "居民平均"),
    "m_before": ("previous run: {value}", "上一次：{value}"),
    "not_yet": ("not yet", "暂无"),
    # ---- plots: marks and the previous run -----------------------------------------------------
    "previous_run": ("previous run: {name}", "上一次运行：{name}"),
    "marks_title": ("Levers moved:", "参数调整："),
    "mark": ("day {day}: {what}", "第 {day} 天：{what}"),
    "chg_funds": ("funds {amounts}", "经费 {amounts}"),
    "chg_scheme": ("funds divided {scheme}", "经费{scheme}分配"),
    "chg_hold": ("city total held: {onoff}", "保持全市总额：{onoff}"),
    "chg_grid": ("grids of {value:,} households", "每个网格 {value:,} 户"),
    "chg_linkage": ("four-party linkage {onoff}", "四方联动{onoff}"),
    "chg_measure": ("{name} {onoff}", "{name}：已{onoff}"),
    # ---- about / things to try -----------------------------------------------------------------
    "about_title": ("About · things to try", "说明 · 试一试"),
    "about_intro": (("Each day grievances arise in the buildings of the city's 178 communities "
                     "(社区). Residents voice some of them, grid workers and patrols find some of "
                     "the silent ones, and the four-level ladder handles what was reported. The "
                     "city's KPIs count only reported cases; the whole-iceberg numbers count "
                     "every grievance, silent ones too. The graph shows one community of each "
                     "class: buildings coloured by satisfaction, red dots for open reported "
                     "grievances, grey dots for silent ones."),
                    ("每天，全市 178 个社区的楼院里都会产生诉求。居民会反映其中一部分，网格员和巡逻队会发现一些"
                     "没有反映的，四级分办处理已受理的诉求。城市考核指标只计已受理的诉求；“冰山”指标计入全部诉求，"
                     "包括沉默的。网络图显示每类各一个社区：楼院颜色表示满意度，红点是已反映、未办结的诉求，灰点"
                     "是未反映的。")),
    "try_1_title": ("1. Before and after the reform", "1. 改革前后"),
    "try_1": (("Choose the scenario xining-uniform (every community 200,000 yuan), press Reset and "
               "play a year at full speed. Then choose xining-classified, press Reset and play "
               "again: the first run stays in the plots, dotted. Which class gains most? Do the "
               "KPIs and the whole-iceberg numbers tell the same story?"),
              ("选择情景 xining-uniform（每个社区 20 万元），按 Reset，以最快速度运行一年。再选择 "
               "xining-classified，按 Reset 再运行一年：第一次运行以虚线留在图中。哪一类社区受益最多？"
               "考核指标和“冰山”指标说的是同一件事吗？")),
    "try_2_title": ("2. Bigger grids in mid-year", "2. 年中扩大网格"),
    "try_2": (("Play to about day 180, pause, and drag the grid size to 1,200 households: there are "
               "fewer grid workers from the next day (the plots mark it). Play on. Watch the grey "
               "dots (silent grievances) and 'never voiced or found': the KPIs of reported cases "
               "may hardly move while more problems stay unseen."),
              ("运行到第 180 天左右，暂停，把网格规模拖到 1,200 户：从下一天起网格员减少（图中会标出）。"
               "继续运行，留意灰点（未反映的诉求）和“从未反映、也未被发现”：已受理诉求的考核指标可能几乎"
               "不变，而更多问题没有被看见。")),
    "try_3_title": ("3. Moving money, same city total", "3. 总额不变，调整经费"),
    "try_3": (("With 'hold the city total' on, raise class B's fund to 400,000 yuan in mid-year: "
               "the other classes' sliders move down to keep 35.6 million, and from the next day "
               "the rest of the year's money is re-divided. Watch 'funds left' and resolution of "
               "class D: does the money B gains cost D anything?"),
              ("在“保持全市总额不变”开启时，年中把 B 类社区经费调到 40 万元：其他类别的滑块随之下降，"
               "保持 3560 万元；从下一天起，当年剩余经费重新分配。留意“剩余经费”和 D 类的解决率："
               "B 类多得的钱，会让 D 类付出代价吗？")),
    "group_funding": ("Funding", "经费"),
    "group_mechanisms": ("Mechanisms", "机制"),
    "group_measures": ("Type measures", "分类措施"),
    "group_classification": ("Classification thresholds", "分类标准"),
    "no_grievance": ("No grievance has arisen yet: press Step.", "还没有产生诉求：请按 Step。"),
    # ---- controls ----------------------------------------------------------------------------
    "funding_scheme": ("Funding scheme", "经费分配方式"),
    "scheme_by_class": ("by class (the sliders)", "按类别（滑块金额）"),
    "scheme_per_capita": ("per resident", "按人口"),
    "scheme_needs_based": ("by need", "按需求"),
    "fund": ("Fund of a class-{cls} community (yuan a year)", "{cls} 类社区经费（元/年）"),
    "hold_total": ("Hold the city total", "保持全市总额不变"),
    "households_per_grid": ("Grid size (households per grid worker)", "网格规模（每名网格员服务户数）"),
    "four_party_linkage": ("Four-party linkage meetings", "四方联动联席会"),
    "measure": ("Measure: {name}", "措施：{name}"),
    "commercial_share_min": ("Class A: commercial-housing share at least", "A 类：商品房住户占比不低于"),
    "old_residents_max_a": ("Class A: old-compound residents below", "A 类：老旧小区居民少于"),
    "population_min_b": ("Class B: population at least", "B 类：人口不少于"),
    "old_residents_min_b": ("Class B: old-compound residents at least", "B 类：老旧小区居民不少于"),
    "seed": ("Random seed", "随机种子"),
    # ---- facts panel -------------------------------------------------------------------------
    "fact_scenario": ("Scenario: **{name}**, seed {seed}, scale 1:{inv:,}",
                      "情景：**{name}**，种子 {seed}，比例 1:{inv:,}"),
    "fact_day": ("Day {day} of {days}", "第 {day} 天 / 共 {days} 天"),
    "fact_classes": ("Communities by class: {counts}", "各类社区数：{counts}"),
    "fact_funds": ("Fund a community gets: {funds}; city total {total:,} yuan a year",
                   "每个社区经费：{funds}；全市合计 {total:,} 元/年"),
    "fact_funds_scheme": ("Funds divided {scheme}: mean per community {funds}; city total {total:,} yuan",
                          "经费{scheme}分配：各类社区平均 {funds}；全市合计 {total:,} 元"),
    "fact_mechanisms": ("Grid of {grid} households; four-party linkage {linkage}",
                        "每个网格 {grid} 户；四方联动{linkage}"),
    "fact_measures": ("Type measures: {measures}", "分类措施：{measures}"),
    "on": ("on", "开启"),
    "off": ("off", "关闭"),
    "none": ("none", "无"),
    "replay": ("Replay of run **{run}** from {store}", "回放：结果库 {store} 中的运行 **{run}**"),
    # ---- plots -------------------------------------------------------------------------------
    "funds_left": ("Funds left (% of the year's)", "剩余经费（占全年 %）"),
    "day": ("day", "天"),
    "class": ("class", "类别"),
    "city": ("city", "全市"),
    "class_name": ("class {cls}", "{cls} 类"),
    # ---- graph and legend --------------------------------------------------------------------
    "community_label": ("{cls} · {name} · {fund}k yuan", "{cls} 类 · {name} · {fund} 千元"),
    "satisfaction_bar": ("mean satisfaction of a building's residents", "楼院居民平均满意度"),
    "legend_building": ("building (colour: satisfaction)", "楼院（颜色：满意度）"),
    "legend_old": ("old compound", "老旧小区"),
    "legend_commercial": ("commercial compound", "商品房小区"),
    "legend_other": ("other compound", "其他小区"),
    "legend_reported": ("open grievance, reported", "未办结诉求（已反映）"),
    "legend_silent": ("open grievance, not yet voiced", "未办结诉求（尚未反映）"),
    "legend_grid_worker": ("grid worker", "网格员"),
    "legend_branch": ("party branch", "小区党支部"),
    "legend_company": ("property company", "物业公司"),
    "legend_red_company": ("red property company", "红色物业"),
    "legend_black_company": ("property company on the black list", "列入黑榜的物业公司"),
    "legend_visited": ("walked by its grid worker today", "网格员今日走访"),
    "fact_institutions": ("Now: {companies} property companies ({black} on the black list), "
                          "{committees} owners' committees, {three_no} \"three-no\" old compounds, "
                          "{linkages} four-party linkages.",
                          "当前：物业公司 {companies} 家（黑榜 {black} 家），业委会 {committees} 个，"
                          "\"三无\"老旧小区 {three_no} 个，四方联动 {linkages} 个。"),
    "legend_owners": ("owners' committee", "业主委员会"),
    "legend_office": ("community committee office", "社区党委/居委会"),
    "legend_linkage": ("four-party linkage", "四方联动"),
    "legend_story": ("the story's grievance", "故事中的诉求"),
    # ---- the story ---------------------------------------------------------------------------
    "story_head": (("**Grievance #{gid}**: {category}, raised by {who} in building {building} "
                   "({kind} compound) of {community} (class {cls})."),
                   ("**第 {gid} 号诉求**：{category}，由{community}（{cls} 类）{kind}小区 {building} "
                   "号楼院的{who}提出。")),
    "who_resident": ("a resident", "一位居民"),
    "who_elderly": ("an elderly resident", "一位老年居民"),
    "who_migrant": ("a migrant resident", "一位流动人口居民"),
    "who_party": ("a resident who is a party member", "一位党员居民"),
    "s_arose": ("Day {day}: it **arose**.", "第 {day} 天：诉求**产生**。"),
    "s_voiced": ("Day {day}: the resident **voiced** it {channel}.", "第 {day} 天：居民{channel}**反映**了诉求。"),
    "s_found": (("Day {day}: the resident had kept quiet, but a patrol **found** it (grid worker, "
                "volunteers or a party-member central household)."),
                "第 {day} 天：居民没有主动反映，但巡查**发现**了它（网格员、巡逻志愿者或党员中心户）。"),
    "s_silent": ("So far the resident has kept it to themselves (day {day}).",
                 "到第 {day} 天，居民仍未反映这件事。"),
    "s_dropped_silent": (("Day {day}: never voiced and never found, it was **given up** after "
                         "{days} days."), "第 {day} 天：一直没有反映也没被发现，{days} 天后居民**放弃**了。"),
    "s_responded": ("Day {day}: first contact: **in time**.", "第 {day} 天：首次联系，**响应及时**。"),
    "s_responded_late": ("Day {day}: first contact, **late** (the response deadline had passed).",
                         "第 {day} 天：首次联系，**响应超时**。"),
    "s_no_response": ("No one has contacted the resident yet.", "目前还没有人联系这位居民。"),
    "s_hotline_direct": ("The 12345 hotline **settled it itself**.", "12345 热线**直接办结**。"),
    "s_hotline_waiting": ("It waits at the 12345 hotline.", "诉求在 12345 热线排队等待。"),
    "s_level": ("It was handled at **level {level}**: {name}.", "在**第 {level} 级**办理：{name}。"),
    "s_level_now": ("It is now at **level {level}**: {name}.", "目前在**第 {level} 级**：{name}。"),
    "s_climbed": ("It climbed the ladder: {path}.", "逐级上报：{path}。"),
    "s_linkage": ("It was settled at the **four-party joint meeting** of its compound.",
                  "在小区**四方联动联席会**上解决。"),
    "s_linkage_waiting": ("It waits for the compound's **four-party joint meeting**.",
                          "等待小区**四方联动联席会**处理。"),
    "s_resolved": ("Day {day}: **resolved**, {days} days after it was reported.",
                   "第 {day} 天：**办结**，距反映 {days} 天。"),
    "s_resolved_same": ("Day {day}: **resolved** the day it was reported.", "第 {day} 天：当天**办结**。"),
    "s_dropped": ("Day {day}: still unresolved after {days} days, the resident **gave up**.",
                  "第 {day} 天：{days} 天仍未解决，居民**放弃**了。"),
    "s_open": ("Day {day}: still open, {days} days after it was reported.",
               "第 {day} 天：仍在办理中，距反映已 {days} 天。"),
    "s_satisfied": ("At the return visit the resident said: **satisfied**.", "回访时居民表示：**满意**。"),
    "s_unsatisfied": ("At the return visit the resident said: **not satisfied**.",
                      "回访时居民表示：**不满意**。"),
    "s_no_visit": ("There was no return visit (only some closed cases get one).",
                   "没有回访（只有部分办结的诉求会回访）。"),
    "s_mood": (("The resident's satisfaction with community governance is now {sat:.0%}, trust "
               "{trust:.0%}."), "这位居民现在对社区治理的满意度为 {sat:.0%}，信任度 {trust:.0%}。"),
    # ---- channels, levels, categories, compound kinds, measures -----------------------------
    "channel_app": ("by QR code, app or phone to the community", "通过扫码、App 或电话向社区"),
    "channel_hotline": ("to the 12345 hotline", "通过 12345 热线"),
    "channel_grid": ("to a grid worker or a party member", "向网格员或党员"),
    "level_party_members": ("in-service party members", "在职党员尽力办"),
    "level_grassroots": (("grassroots organisations (property company, owners' committee, "
                         "community committee)"), "基层组织有效办（物业、业委会、社区）"),
    "level_co_building": ("linked co-building units", "联点共建单位精准办"),
    "level_departments": ("city departments", "职能部门马上办"),
    "level_short_party_members": ("party members", "党员"),
    "level_short_grassroots": ("grassroots", "基层组织"),
    "level_short_co_building": ("co-building units", "共建单位"),
    "level_short_departments": ("departments", "职能部门"),
    "cat_property": ("a property or maintenance problem", "物业维修问题"),
    "cat_dispute": ("a noise or neighbour dispute", "噪音或邻里纠纷"),
    "cat_infrastructure": ("an infrastructure problem (roads, pipes, EV charging)",
                           "基础设施问题（道路、管网、充电桩）"),
    "cat_sanitation": ("a sanitation problem", "环境卫生问题"),
    "cat_security": ("a safety hazard", "安全隐患"),
    "cat_micro_wish": ("a micro-wish", "微心愿"),
    "cat_wage_legal": ("unpaid wages or a legal matter", "欠薪或法律问题"),
    "cat_consultation": ("a question about policy or services", "政策或服务咨询"),
    "kind_commercial": ("a commercial", "商品房"),
    "kind_old": ("an old", "老旧"),
    "kind_unit": ("a work-unit", "单位"),
    "kind_resettlement": ("a resettlement", "安置"),
    "kind_rural": ("a rural", "农村"),
    "measure_red_property": ("red property (A)", "红色物业"),
    "measure_purchased_services": ("purchased services (B, C)", "政府购买服务"),
    "measure_owners_committees": ("owners' committees (B)", "业委会与准物业"),
    "measure_deliberation": ("deliberation councils (B, C)", "议事协商"),
    "measure_security_patrols": ("security patrols (C)", "治安巡逻志愿队"),
    "measure_central_households": ("party-member central households (D)", "党员中心户"),
    # ---- the film ----------------------------------------------------------------------------
    "film_title": ("{name}: day {day}", "{name}：第 {day} 天"),
    "film_caption": ("Day {day} · {policy}", "第 {day} 天 · {policy}"),
    "cap_open": (("{open:,} grievances are open in the city, {silent:,} of them never voiced "
                  "(grey dots)."), "全市有 {open:,} 件诉求尚未办结，其中 {silent:,} 件居民没有反映（灰点）。"),
    "cap_start": ("The first grievances arise; most are voiced, some stay silent.",
                  "最初的诉求产生了：大多数被反映，也有一些没有人说。"),
    "cap_resolved": (("Of the cases reported in the last 30 days, {resolution} were resolved; "
                      "class {best} does best, class {worst} worst."),
                     "近 30 天受理的诉求中，{resolution} 已解决；{best} 类社区最好，{worst} 类最差。"),
    "cap_funds": ("Class {cls} has {left} of its year's fund left.", "{cls} 类社区还剩全年经费的 {left}。"),
    "cap_changed": ("From today: {what}.", "从今天起：{what}。"),
    "side_by_side": ("Same city, same seed {seed}: {left} | {right}",
                     "同一城市、同一随机种子 {seed}：{left} | {right}"),
    # ---- scenario titles (shipped scenarios; others show their description) --------------------
    "scn_xining-uniform": ("Before the reform: 200,000 yuan for every community",
                           "改革前：每个社区 20 万元"),
    "scn_xining-classified": ("The reform: funds by class (150k/300k/150k/100k) and type measures",
                              "分类改革：按类别拨款（15/30/15/10 万元）并实施分类措施"),
    "scn_classified-b-cut": ("The reform with class B cut to 150,000 yuan",
                             "分类改革，但 B 类经费降到 15 万元"),
    "scn_classified-funding-only": ("Funds by class, no type measures", "只按类别拨款，不实施分类措施"),
    "scn_classified-large-grids": ("The reform with grids of 800 households",
                                   "分类改革，每个网格 800 户"),
    "scn_classified-no-linkage": ("The reform without four-party linkage", "分类改革，没有四方联动"),
    "scn_classified-thresholds-moved": ("The reform with more class-B communities",
                                        "分类改革，B 类社区更多（老旧小区门槛 2,500 人）"),
    "scn_needs-based": ("The same 35.6 million yuan divided by need", "同样 3560 万元按需求分配"),
    "scn_per-capita": ("The same 35.6 million yuan divided per resident", "同样 3560 万元按人口分配"),
    "scn_uniform-with-measures": ("200,000 yuan for every community, with the type measures",
                                  "每个社区 20 万元，并实施分类措施"),
    "scn_calibrated": ("Fitted behavioural parameters (every shipped scenario extends them)",
                       "拟合的行为参数（所有随附方案都继承它们）"),
    # ---- the classroom's pages (sim/classroom/pages.py) ---------------------------------------
    "cls_title": ("Shequ classroom: govern your community", "社区课堂：管理你的社区"),
    "cls_teacher_title": ("Shequ classroom: the teacher's page", "社区课堂：教师页面"),
    "cls_day": ("Day {day} of {days}", "第 {day} 天 / 共 {days} 天"),
    "cls_ended": ("The class has ended (day {day}).", "课堂已结束（第 {day} 天）。"),
    "cls_code": ("Your join code (from your teacher's screen)", "加入码（见教师的屏幕）"),
    "cls_name": ("Your name (shown to your teacher)", "你的名字（教师可以看到）"),
    "cls_join": ("Join", "加入"),
    "cls_leave": ("Leave the seat", "离开座位"),
    "cls_seat": ("Seat {seat}: {name}, class {cls}", "{seat} 号座位：{name}，{cls} 类社区"),
    "cls_outcomes": ("Your community so far", "你的社区至今"),
    "cls_counts": ("Your community's grievances since the class began (those resolved or "
                   "settled include grievances that arose before it)",
                   "你的社区自开课以来的诉求（已解决和联席会解决的，包括开课前产生的诉求）"),
    "cls_choice": ("Your choice: acts from the next day", "你的决定：从下一天起生效"),
    "cls_choice_hint": (("What you choose replaces your community's institutions' usual way, for "
                         "your community only, from the next day until you change it."),
                        "你的决定取代本社区各机构的默认做法，只对你的社区有效，从下一天起生效，直到你再次修改。"),
    "cls_submit": ("Submit my choice", "提交我的决定"),
    "cls_submitted": ("Your choice acts from day {day}.", "你的决定从第 {day} 天起生效。"),
    "cls_now": ("In force now: {choice}", "现在生效：{choice}"),
    "cls_default": ("the usual way (no choice yet)", "默认做法（尚未做决定）"),
    "cls_group_spending": ("The committee's spending plan", "社区委员会的经费使用计划"),
    "cls_group_patrol": ("Where the grid workers patrol", "网格员巡查的重点"),
    "cls_group_meeting": ("The four-party joint meetings", "四方联动联席会"),
    "ch_reserve_share": ("Reserve held back for priority cases (share of the fund)",
                         "为优先事项预留的储备金（占经费比例）"),
    "ch_priority_categories": ("Categories paid first", "优先支付的诉求类别"),
    "ch_spending": ("Spending rule", "支出规则"),
    "ch_patrol_focus": ("Compounds to walk more often", "多走访的小区"),
    "ch_patrol_share": ("Share of the visits spent there", "在这些小区花费的走访比例"),
    "ch_joint_meeting": ("Hold the joint meetings", "召开联席会"),
    "ch_agenda": ("First on the agenda", "议程先讨论"),
    "ch_even": ("even over the year", "全年均衡"),
    "ch_first_come": ("first come, first paid", "先到先付"),
    "ch_oldest": ("the longest-waiting cases", "等待最久的问题"),
    "ch_property": ("property cases", "物业问题"),
    "ch_dispute": ("neighbour disputes", "邻里纠纷"),
    "ch_compound": ("compound {n}", "{n} 号小区"),
    "cls_n_arisen": ("arose", "产生"),
    "cls_n_reported": ("reported (voiced or found)", "已反映或被发现"),
    "cls_n_silent": ("kept silent", "未反映"),
    "cls_n_found": ("found by patrols", "巡查发现"),
    "cls_n_resolved": ("resolved", "已解决"),
    "cls_n_linkage_settled": ("settled at a joint meeting", "联席会解决"),
    "cls_n_spent": ("yuan spent", "已支出（元）"),
    "cls_fund": ("yuan: the year's fund", "元：全年经费"),
    "cls_seats": ("The class's communities", "全班的社区"),
    "cls_city": ("The city, by class", "全市（按类别）"),
    "cls_league": ("League table by class (best share of every grievance resolved first)",
                   "按类别排名（全部诉求解决比例高者在前）"),
    "cls_col_seat": ("seat", "座位"),
    "cls_col_student": ("student", "学生"),
    "cls_col_community": ("community", "社区"),
    "cls_col_rank": ("rank", "名次"),
    "cls_col_choice": ("choice", "决定"),
    "cls_free": ("(free)", "（空）"),
    "cls_joined": ("(joined)", "（已加入）"),
    "cls_lost": ("{name} (connection lost)", "{name}（连接中断）"),
    "cls_play": ("Play", "播放"),
    "cls_pause": ("Pause", "暂停"),
    "cls_step": ("Step a day", "前进一天"),
    "cls_period": ("Run to the {period}'s end", "运行到本{period}末"),
    "cls_week": ("week", "周"),
    "cls_month": ("month", "月"),
    "cls_end": ("End the class", "结束课堂"),
    "cls_speed": ("Speed: {speed} days a second", "速度：每秒 {speed} 天"),
    "cls_playing": ("playing", "播放中"),
    "cls_paused": ("paused", "已暂停"),
    "cls_hold": ("Play holds at each {period}'s end, for the students' choices.",
                 "每{period}末自动暂停，以便学生做决定。"),
    "cls_codes": ("Join codes", "加入码"),
    "cls_key_needed": (("This page is the teacher's: open the address with its key, printed where "
                        "the class was started."),
                       "这是教师页面：请打开启动课堂时打印的带密钥的网址。"),
    "cls_no_class": ("No class is running here.", "这里没有正在进行的课堂。"),
}

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei",
                "PingFang SC", "Heiti SC", "Arial Unicode MS")


# The outcomes' words come from the one table of sim/labels.py: `name` is an outcome's label,
# `m_name` its short form on the app's tiles.
LABELS |= {o.name: o.label for o in OUTCOMES.values()}
LABELS |= {f"m_{o.name}": o.short for o in OUTCOMES.values()}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGS)}")
    return lang


def text(key: str, lang: str = "en", **values) -> str:
    """The label `key` in `lang`, with `{placeholders}` filled from `values`."""
    label = LABELS[key][LANGS.index(check_lang(lang))]
    return label.format(**values) if values else label


_font_ready: str | None = None


def cjk_font() -> str | None:
    """The family name of an installed CJK font, or None.

    Matplotlib's font cache may predate the font's installation (e.g. `apt-get install
    fonts-noto-cjk` after matplotlib was first imported), so system fonts with "CJK" in their
    file name are added when no known family is registered."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    found = next((f for f in CJK_FAMILIES if f in names), None)
    if found:
        return found
    for path in font_manager.findSystemFonts():
        if any(s in path for s in ("CJK", "wqy", "SourceHan", "NotoSansSC")):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError):
                continue
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CJK_FAMILIES if f in names), None)


def setup_fonts(lang: str = "en") -> str | None:
    """Make matplotlib draw Latin text in DejaVu Sans and Chinese in a CJK font (glyph
    fallback). Warns once when Chinese is asked for but no CJK font is installed (Debian:
    `apt-get install fonts-noto-cjk`). Returns the CJK family used."""
    global _font_ready
    if _font_ready is None:  # looking for the font is slow: once a process
        _font_ready = cjk_font() or ""
    # Named families (not the generic "sans-serif"): matplotlib falls back glyph by glyph only
    # along a list of named families. Set on every call, not once: Solara gives each browser
    # tab (kernel context) its own copy of rcParams, taken from the settings outside any tab, so
    # a family set inside one tab is missing in the next.
    families = ["DejaVu Sans", *([_font_ready] if _font_ready else [])]
    if list(matplotlib.rcParams["font.family"]) != families:
        matplotlib.rcParams["font.family"] = families
    if lang == "zh" and not _font_ready:
        warnings.warn("no CJK font found: Chinese labels will show as boxes "
                      "(install one, e.g. Debian's fonts-noto-cjk)", stacklevel=2)
    return _font_ready or None


def require_fonts(lang: str, flag: str = "--lang zh") -> None:
    """Fonts for a figure in `lang`: Chinese needs a CJK font, found or a clear error (never
    boxes)."""
    from sim.errors import InputError

    family = setup_fonts("en")
    if lang == "zh" and not family:
        raise InputError(f"{flag}: expected a CJK font for Chinese labels, found none "
                         "(install one, e.g. Debian's fonts-noto-cjk)")
