"""The synthetic job board: the built-in demo data.

``make_job_board(seed)`` builds a Japanese part-time job board in a couple of seconds:
users, job postings, view / favorite / apply / hire events over a fixed 90-day window ending
2026-09-30 (so the output never depends on today's date), and company reviews of which
about a tenth are meaningless (label 1) in five recognisable kinds.

Why by hand: no library generates recommender interaction logs with this structure, so
the generator is plain vectorised numpy. The behaviour model, in one paragraph: a user
has a home prefecture, an age band and category tastes (a Dirichlet draw tilted by age);
a posting has a category, a prefecture, a wage, an employer, a posting date and a latent
quality (lognormal: a long popularity tail). The chance that user u views posting i is
proportional to

    taste[u, category_i] * geo[home_u, prefecture_i] * exp(latent_u . latent_i
        + wage_sensitivity_u * wage_z_i) * quality_i * attention_i,

where ``attention_i`` is how much of the posting's freshness (a decaying rate after its
posting date, with a floor) falls inside the window. Views come at a time drawn from
that same decaying rate, so new postings get the attention. A view turns into a
favorite and/or an apply with a probability that grows with the user's taste for the
category, a few minutes to a day later; a person decides about a posting once, at the
first view of it (repeat views happen but never lead to an application); an
application turns into a hire (days later)
with ``hire_probability``: employer selectivity, wage, category fit and home prefecture.
The true P(apply | view) and P(hire | apply) of every view are kept in
``Dataset.oracle`` (user_id, item_id, time, p_apply, p_hire; p_apply is 0 for a repeat
view, which cannot lead to an application), so that a funnel model can be checked
against the truth. Popularity, item-kNN and matrix factorisation
therefore genuinely differ: category and place give neighbourhood structure, the latent
term gives something only a factor model recovers, and quality gives the popular head.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.dataset import DEFAULT_EVENT_WEIGHTS, REVIEW_COLUMNS, Dataset
from engine.errors import DataError

GENERATOR_VERSION = 2  # 2: one application decision per (user, posting), at its first view
#: The window ends at the end of this day (exclusive 2026-10-01 00:00), whatever today is.
END_DATE = pd.Timestamp("2026-09-30")

# --------------------------------------------------------------------------- vocabulary

#: 47 prefectures: (name, region, population in millions, rough 2020 census).
PREFECTURES = [
    ("北海道", "北海道", 5.22), ("青森県", "東北", 1.24), ("岩手県", "東北", 1.21),
    ("宮城県", "東北", 2.30), ("秋田県", "東北", 0.96), ("山形県", "東北", 1.07),
    ("福島県", "東北", 1.83), ("茨城県", "関東", 2.87), ("栃木県", "関東", 1.93),
    ("群馬県", "関東", 1.94), ("埼玉県", "関東", 7.34), ("千葉県", "関東", 6.28),
    ("東京都", "関東", 14.05), ("神奈川県", "関東", 9.24), ("新潟県", "中部", 2.20),
    ("富山県", "中部", 1.03), ("石川県", "中部", 1.13), ("福井県", "中部", 0.77),
    ("山梨県", "中部", 0.81), ("長野県", "中部", 2.05), ("岐阜県", "中部", 1.98),
    ("静岡県", "中部", 3.63), ("愛知県", "中部", 7.54), ("三重県", "近畿", 1.77),
    ("滋賀県", "近畿", 1.41), ("京都府", "近畿", 2.58), ("大阪府", "近畿", 8.84),
    ("兵庫県", "近畿", 5.47), ("奈良県", "近畿", 1.32), ("和歌山県", "近畿", 0.92),
    ("鳥取県", "中国", 0.55), ("島根県", "中国", 0.67), ("岡山県", "中国", 1.89),
    ("広島県", "中国", 2.80), ("山口県", "中国", 1.34), ("徳島県", "四国", 0.72),
    ("香川県", "四国", 0.95), ("愛媛県", "四国", 1.33), ("高知県", "四国", 0.69),
    ("福岡県", "九州・沖縄", 5.14), ("佐賀県", "九州・沖縄", 0.81), ("長崎県", "九州・沖縄", 1.31),
    ("熊本県", "九州・沖縄", 1.74), ("大分県", "九州・沖縄", 1.12), ("宮崎県", "九州・沖縄", 1.07),
    ("鹿児島県", "九州・沖縄", 1.59), ("沖縄県", "九州・沖縄", 1.47),
]

#: Stations used in titles; prefectures not listed use their own short name.
STATIONS = {
    "北海道": ["札幌", "大通", "すすきの", "新札幌", "旭川", "函館"],
    "宮城県": ["仙台", "長町", "泉中央"],
    "埼玉県": ["大宮", "浦和", "川越", "所沢", "越谷", "川口"],
    "千葉県": ["千葉", "船橋", "柏", "松戸", "海浜幕張", "津田沼"],
    "東京都": ["渋谷", "新宿", "池袋", "品川", "上野", "秋葉原", "吉祥寺", "立川", "町田",
            "北千住", "錦糸町", "中野", "恵比寿", "八王子", "蒲田", "高田馬場", "五反田"],
    "神奈川県": ["横浜", "川崎", "藤沢", "武蔵小杉", "本厚木", "相模大野", "関内", "新横浜"],
    "新潟県": ["新潟", "長岡"],
    "静岡県": ["静岡", "浜松", "沼津"],
    "愛知県": ["名古屋", "栄", "金山", "豊橋", "岡崎", "一宮"],
    "京都府": ["京都", "四条", "烏丸御池", "山科"],
    "大阪府": ["梅田", "難波", "天王寺", "京橋", "心斎橋", "新大阪", "堺東", "江坂"],
    "兵庫県": ["三宮", "姫路", "西宮北口", "尼崎", "明石"],
    "岡山県": ["岡山", "倉敷"],
    "広島県": ["広島", "紙屋町", "福山"],
    "福岡県": ["博多", "天神", "小倉", "久留米", "薬院"],
    "熊本県": ["熊本", "水前寺"],
    "沖縄県": ["県庁前", "おもろまち"],
}

#: Statutory minimum wages differ by prefecture; postings never pay below these.
WAGE_FLOOR = {"東京都": 1230, "神奈川県": 1230, "大阪府": 1180, "埼玉県": 1150, "千葉県": 1150,
              "愛知県": 1150, "京都府": 1130, "兵庫県": 1120}
DEFAULT_WAGE_FLOOR = 1050

AGE_BANDS = ["10代", "20代前半", "20代後半", "30代", "40代", "50代以上"]
AGE_WEIGHTS = np.array([0.12, 0.25, 0.15, 0.18, 0.16, 0.14])

#: name: (share of postings, wage low, wage high, job names, category perks,
#:        employer name endings, taste weight per age band, what reviews say about the work)
CATEGORIES: dict[str, dict] = {
    "飲食・フード": dict(
        share=0.16, wage=(1050, 1500),
        jobs=["カフェホールスタッフ", "居酒屋のキッチンスタッフ", "ファミレスのホールスタッフ",
              "ラーメン店スタッフ", "焼肉店のホール", "ベーカリーの販売・製造", "寿司店の調理補助",
              "ファストフード店クルー", "カフェのバリスタ", "うどん店のキッチン"],
        perks=["まかない付き", "食事補助あり", "ランチのみOK"],
        endings=["フーズ", "ダイニング", "キッチン", "フードサービス"],
        age=[3.0, 2.6, 1.5, 0.9, 0.8, 0.6],
        work=["ランチタイムは本当に戦場です。", "まかないが美味しくて助かりました。",
              "洗い場がとにかく大変でした。", "ピーク時はオーダーが追いつかないことも。",
              "メニューを覚えるまで少し時間がかかりました。", "常連さんに顔を覚えてもらえるのが嬉しい。"],
    ),
    "販売": dict(
        share=0.12, wage=(1050, 1600),
        jobs=["アパレル販売スタッフ", "コンビニスタッフ", "ドラッグストアの販売", "家電量販店の販売員",
              "書店スタッフ", "スーパーのレジ", "携帯ショップの受付", "雑貨店スタッフ"],
        perks=["社割あり", "髪色自由", "ノルマなし"],
        endings=["リテール", "商事", "ストアーズ", "マート"],
        age=[2.0, 2.0, 1.6, 1.2, 1.1, 0.9],
        work=["レジ打ちはすぐに慣れました。", "品出しが意外と体力を使います。",
              "社割で買い物できるのが地味に嬉しい。", "セール時期はかなり忙しくなります。",
              "クレーム対応が多い店舗でした。", "商品知識が身につきます。"],
    ),
    "軽作業・物流": dict(
        share=0.11, wage=(1100, 1600),
        jobs=["倉庫内の軽作業", "ピッキングスタッフ", "仕分け作業", "検品・梱包スタッフ",
              "フォークリフトオペレーター", "冷凍倉庫の入出庫", "シール貼り・ラベル作業"],
        perks=["黙々作業", "空調完備", "人と話さない仕事"],
        endings=["ロジスティクス", "物流", "ロジ", "運輸倉庫"],
        age=[0.8, 1.2, 1.3, 1.4, 1.5, 1.8],
        work=["黙々と作業できるので性格に合っていました。", "夏場の倉庫はかなり暑いです。",
              "ピッキングのノルマが少し厳しめ。", "立ちっぱなしなので足が疲れます。",
              "単純作業なので時間が長く感じます。", "作業手順がマニュアル化されていて分かりやすい。"],
    ),
    "事務": dict(
        share=0.08, wage=(1100, 1700),
        jobs=["一般事務", "データ入力", "医療事務", "経理アシスタント", "受付事務", "営業事務",
              "コールセンターのオペレーター"],
        perks=["土日祝休み", "残業なし", "オフィスカジュアル"],
        endings=["ビジネスサービス", "オフィスサポート", "総研", "アソシエイツ"],
        age=[0.3, 1.0, 1.6, 2.0, 1.8, 1.2],
        work=["電話対応が多めでした。", "エクセルのスキルが身につきます。",
              "月末は締め作業でバタバタします。", "デスクワークなので体は楽です。",
              "データ入力は正確さが求められます。", "社員さんとの距離が近い職場です。"],
    ),
    "IT・エンジニア": dict(
        share=0.05, wage=(1400, 2800),
        jobs=["Webエンジニア（Python）", "テスター・デバッガー", "ヘルプデスク", "インフラの運用監視",
              "AIデータのアノテーション", "Webデザイナーアシスタント", "QAエンジニア"],
        perks=["リモート可", "フルリモートOK", "服装自由"],
        endings=["テクノロジーズ", "システムズ", "ソリューションズ", "ラボ"],
        age=[0.4, 1.8, 1.8, 1.4, 0.9, 0.4],
        work=["リモートで働けるのがありがたいです。", "コードレビューが丁寧で勉強になりました。",
              "仕様変更が多くて振り回されることも。", "技術的に挑戦できる環境でした。",
              "ドキュメントが整っていなくて最初は苦労しました。", "チャットでのやり取りが中心です。"],
    ),
    "医療・介護": dict(
        share=0.08, wage=(1100, 1800),
        jobs=["介護スタッフ", "看護助手", "訪問介護ヘルパー", "デイサービスの送迎", "調剤薬局の補助",
              "病院の受付", "グループホームの夜勤"],
        perks=["資格取得支援", "無資格OK", "夜勤手当あり"],
        endings=["ケア", "メディカル", "ケアサービス", "ライフサポート"],
        age=[0.3, 0.9, 1.1, 1.6, 2.0, 2.2],
        work=["利用者さんの笑顔にやりがいを感じます。", "夜勤は体力的にきついです。",
              "記録業務が多くて残業になりがち。", "資格取得の支援があって助かりました。",
              "人手不足で一人あたりの負担が大きいです。", "入浴介助は慣れるまで大変でした。"],
    ),
    "教育・講師": dict(
        share=0.07, wage=(1200, 2500),
        jobs=["塾講師（個別指導）", "家庭教師", "集団塾講師", "英会話講師", "プログラミング教室講師",
              "学童保育スタッフ", "テストの採点スタッフ"],
        perks=["研修充実", "大学生歓迎", "教材準備の時間も時給対象"],
        endings=["ゼミナール", "学院", "アカデミー", "教育"],
        age=[1.6, 2.6, 1.2, 0.8, 0.7, 0.5],
        work=["生徒の成績が上がったときは本当に嬉しい。", "授業準備の時間が給料に含まれないのが不満。",
              "保護者対応が少しプレッシャーでした。", "教えることで自分の勉強にもなります。",
              "テスト前は授業のコマ数が増えます。", "生徒との相性が大事だと感じました。"],
    ),
    "接客・サービス": dict(
        share=0.09, wage=(1050, 1500),
        jobs=["ホテルのフロント", "カラオケスタッフ", "映画館スタッフ", "ネットカフェスタッフ",
              "ブライダルスタッフ", "アミューズメント施設のスタッフ", "フィットネスジムの受付"],
        perks=["無料入館特典あり", "制服貸与", "深夜手当あり"],
        endings=["サービス", "エンターテイメント", "ホテルズ", "リゾート"],
        age=[2.2, 2.2, 1.4, 0.9, 0.8, 0.6],
        work=["お客さんと話すのが好きなら向いています。", "深夜帯は落ち着いていて楽でした。",
              "酔ったお客さんの対応が大変です。", "接客マナーが自然と身につきました。",
              "土日はかなり混雑します。", "スタッフ同士の仲が良くて楽しいです。"],
    ),
    "製造": dict(
        share=0.07, wage=(1100, 1700),
        jobs=["工場内の製造スタッフ", "食品工場のライン作業", "電子部品の組立", "製品の検査スタッフ",
              "機械オペレーター", "お弁当の盛り付け"],
        perks=["寮あり", "送迎バスあり", "夜勤あり"],
        endings=["製作所", "工業", "精工", "食品工業"],
        age=[0.6, 1.1, 1.3, 1.6, 1.6, 1.6],
        work=["ライン作業なので自分のペースでは動けません。", "クリーンルームでの作業でした。",
              "夜勤は手当がつくので稼げます。", "同じ作業の繰り返しで眠くなることも。",
              "安全教育がしっかりしていました。", "送迎バスがあるので通勤が楽です。"],
    ),
    "配送・ドライバー": dict(
        share=0.07, wage=(1150, 2000),
        jobs=["軽貨物ドライバー", "フードデリバリーの配達員", "ルート配送ドライバー", "引越しスタッフ",
              "送迎ドライバー", "新聞配達"],
        perks=["車両貸与", "普通免許でOK", "歩合あり"],
        endings=["運送", "エクスプレス", "急便", "交通"],
        age=[0.6, 1.4, 1.5, 1.5, 1.4, 1.4],
        work=["一人で運転している時間が長いので気楽です。", "再配達が多い日はへとへとになります。",
              "引越しは体力勝負です。", "道を覚えるまでは時間がかかりました。",
              "雨の日の配達はかなりつらい。", "歩合があるので頑張った分だけ稼げます。"],
    ),
    "清掃": dict(
        share=0.05, wage=(1050, 1400),
        jobs=["オフィスビルの清掃", "ホテルの客室清掃", "病院の清掃スタッフ", "商業施設の清掃",
              "マンションの管理・清掃", "ハウスクリーニング"],
        perks=["早朝のみOK", "1日2時間から", "シニア活躍中"],
        endings=["ビルメンテナンス", "クリーンサービス", "美装", "環境サービス"],
        age=[0.3, 0.5, 0.7, 1.0, 1.6, 2.6],
        work=["一人で黙々と作業できるのが良い。", "客室清掃は時間との勝負です。",
              "早朝勤務なので午後の時間を有効に使えます。", "トイレ清掃は正直きついです。",
              "きれいになると達成感があります。", "洗剤で手が荒れやすいです。"],
    ),
    "イベント": dict(
        share=0.05, wage=(1100, 1600),
        jobs=["イベント設営スタッフ", "コンサート会場の誘導", "試食販売のデモンストレーター",
              "スポーツ観戦の場内案内", "展示会の受付", "試験監督"],
        perks=["1日だけOK", "単発OK", "日払いOK"],
        endings=["プロモーション", "イベンツ", "企画", "エージェンシー"],
        age=[2.4, 2.2, 1.2, 0.7, 0.6, 0.6],
        work=["単発なので予定に合わせやすいです。", "設営は重い機材を運ぶので大変。",
              "有名なライブの裏側が見られて楽しかった。", "待機時間が長くて暇なこともあります。",
              "現場ごとに集合場所が違うので注意が必要。", "炎天下での誘導は過酷でした。"],
    ),
}
CATEGORY_NAMES = list(CATEGORIES)

GENERAL_PERKS = ["未経験歓迎", "週2日からOK", "週1日・1日3時間からOK", "学生歓迎", "主婦（夫）活躍中",
                 "交通費支給", "日払いOK", "高時給", "シフト自由", "短期OK", "土日のみOK", "扶養内OK",
                 "40代・50代活躍中", "WワークOK", "履歴書不要", "昇給あり", "友達と応募OK", "駅チカ"]

TITLE_PATTERNS = [
    "{station}駅徒歩{walk}分の{job}",
    "{perk} {job}",
    "{perk}！{station}エリアの{job}",
    "【{perk}】{job}（{station}）",
    "{job}／{perk}・{perk2}",
    "時給{wage}円 {job}【{station}】",
    "{station}駅チカ {job} {perk}",
    "{perk} {station}の{job}",
    "【時給{wage}円】{perk}の{job}",
    "{job}（{station}駅）{perk}",
]

EMPLOYER_STEMS = [
    "サンライズ", "ひまわり", "アオバ", "ミライ", "グリーン", "さくら", "大和", "東洋", "フロンティア",
    "ブルースカイ", "スマイル", "ハーモニー", "富士", "北斗", "若葉", "みなと", "青空", "アース",
    "ユニオン", "ライフ", "トラスト", "ネクスト", "エール", "太陽", "丸栄", "中央", "東邦", "瑞穂",
    "コスモス", "オリオン", "ステラ", "リバティ", "朝日", "千代田", "双葉", "北辰", "明和", "協和",
    "大成", "三和", "グローバル", "パシフィック", "あけぼの", "ひかり", "はなまる", "やまびこ", "つばさ",
    "なでしこ", "ポラリス", "アルファ", "ベスト", "ハピネス", "シーサイド", "レインボー", "ミドリ",
    "アクア", "ノースポイント", "いろは", "和光", "菱和", "旭", "松風", "ウィル", "クローバー",
]

# ----------------------------------------------------------------------- review text

REVIEW_ASPECTS: dict[str, dict[str, list[str]]] = {
    "時給": dict(
        pos=["時給は{wage}円で、この辺りでは高い方だと思います。", "時給が良いので効率よく稼げました。",
             "半年で時給が{raise}円上がりました。", "深夜は時給が上がるので助かります。",
             "昇給の仕組みがはっきりしていて良い。", "交通費が全額出るのはありがたいです。"],
        neg=["時給が{wage}円からなかなか上がりません。", "仕事量の割に時給が安すぎます。",
             "昇給は年に一回、しかも{raise}円だけでした。", "交通費が上限ありで実質赤字の日も。",
             "求人に書いてあった時給と実際が違いました。", "研修期間中は時給が下がります。"],
        short_pos=["時給が良い", "時給高め", "昇給あり", "交通費全額支給", "給料は満足", "深夜の時給が高い",
                   "稼げる", "時給は相場より上"],
        short_neg=["時給安い", "昇給なし", "給料が低い", "交通費が出ない", "時給に見合わない", "最低賃金レベル",
                   "稼げない", "手当がない"],
    ),
    "シフト": dict(
        pos=["シフトは{period}ごとの提出で、希望はほぼ通ります。", "テスト期間はシフトを減らしてもらえました。",
             "週{days}日から入れるので学業と両立できました。", "急な休みにも快く対応してもらえます。",
             "シフトの融通がかなりききます。", "扶養内で調整してもらえるので主婦にはありがたい。"],
        neg=["シフトの希望がほとんど通りません。", "人が足りないと急にシフトを入れられます。",
             "週{days}日以上入れないと嫌な顔をされます。", "休みの連絡を入れると代わりを探せと言われる。",
             "シフトが出るのが直前で予定が立てにくい。", "土日は必ず出勤するよう求められました。"],
        short_pos=["シフト自由", "シフトの融通がきく", "休みが取りやすい", "希望休が通る", "テスト期間は休める",
                   "週1からでもOK"],
        short_neg=["シフトが厳しい", "休みが取りにくい", "急な呼び出しあり", "シフトが不安定", "希望が通らない",
                   "シフト提出が面倒"],
    ),
    "人間関係": dict(
        pos=["店長がとても優しくて、困ったときはすぐに助けてくれます。", "スタッフ同士の仲が良く、居心地が良いです。",
             "年齢層が幅広いけれど、みんな気さくです。", "先輩が丁寧に教えてくれるので安心でした。",
             "社員さんが話しやすい雰囲気を作ってくれます。", "休憩中に雑談できる雰囲気が好きでした。"],
        neg=["一部のパートさんが新人に厳しいです。", "店長の機嫌で職場の雰囲気が変わります。",
             "派閥のようなものがあって気を遣います。", "社員さんが忙しそうで質問しづらいです。",
             "陰口が多い職場で人間関係に疲れました。", "ベテランの方のやり方に合わせるのが大変でした。"],
        short_pos=["店長が優しい", "人間関係が良い", "職場の雰囲気が良い", "先輩が親切", "みんな仲良し"],
        short_neg=["人間関係が最悪", "店長が怖い", "お局がいる", "雰囲気が悪い", "新人に冷たい"],
    ),
    "研修": dict(
        pos=["研修がしっかりしているので未経験でも安心です。", "最初の{n}回は先輩がついてくれました。",
             "マニュアルが分かりやすくてすぐに仕事を覚えられます。", "研修中もきちんと時給が出ます。",
             "動画研修があって事前に流れを確認できました。"],
        neg=["研修はほぼなく、初日からいきなり現場でした。", "マニュアルがなくて人によって言うことが違います。",
             "教育係が決まっていないので質問しにくいです。", "研修の時間は無給だと後から知りました。",
             "覚えることが多すぎて最初の{n}週間はきつかった。"],
        short_pos=["研修が丁寧", "未経験でも安心", "マニュアルあり", "教育係がつく", "覚えやすい"],
        short_neg=["研修なし", "教え方が雑", "放置される", "いきなり現場", "教える人がいない"],
    ),
    "通勤": dict(
        pos=["駅から徒歩{walk}分なので通いやすいです。", "家から自転車で{walk}分なのが決め手でした。",
             "駅直結なので雨の日も濡れずに通えます。", "車通勤OKで駐車場もあります。"],
        neg=["駅から歩いて{walk2}分以上かかります。", "バスの本数が少なくて通勤が不便です。",
             "駐車場がなく、車で通えないのが難点。", "朝の電車が混んでいて通勤だけで疲れます。"],
        short_pos=["駅近", "通勤が楽", "家から近い", "車通勤OK", "駅直結"],
        short_neg=["駅から遠い", "通勤が不便", "駐車場なし", "バスが少ない"],
    ),
    "職場環境": dict(
        pos=["休憩室がきれいで、ゆっくり休めます。", "制服が貸与されるので服装に困りません。",
             "空調が効いていて快適に働けます。", "設備が新しくて作業しやすいです。"],
        neg=["休憩室が狭くて落ち着きません。", "冬は寒くて夏は暑い職場です。",
             "ロッカーが足りず荷物の置き場に困りました。", "休憩がまともに取れない日もあります。"],
        short_pos=["休憩室がきれい", "職場がきれい", "設備が新しい", "空調が快適", "制服がかわいい"],
        short_neg=["休憩が取れない", "職場が汚い", "環境が悪い", "夏は暑い", "ロッカーが狭い"],
    ),
    "忙しさ": dict(
        pos=["程よく忙しくて時間が経つのが早いです。", "平日は落ち着いているので楽です。",
             "忙しい時間帯は決まっているので慣れれば大丈夫。"],
        neg=["常に人手不足で休む暇がありません。", "繁忙期は残業が当たり前になります。",
             "一人に任される仕事が多すぎます。"],
        short_pos=["ほどよい忙しさ", "暇な時間もある", "楽な方", "のんびり働ける", "時間が経つのが早い"],
        short_neg=["忙しすぎる", "常に人手不足", "残業が多い", "休む暇がない", "とにかくきつい"],
    ),
}

REVIEW_OPENERS = [
    "大学{year}年のときに{months}か月ほど働きました。", "主婦なので平日の午前中だけ勤務しています。",
    "フリーターとして{months}か月勤務しました。", "Wワークで週{days}日働いています。",
    "高校生のときに初めてのバイトとしてお世話になりました。", "現在も働いています。",
    "{months}か月ほど前に辞めました。", "未経験で応募しました。", "友達の紹介で入りました。",
    "定年後の働き口として応募しました。", "", "", "",
]
REVIEW_CONNECTORS = ["ただ、", "一方で、", "その反面、", "あと、", "それと、", "ちなみに", "", "", ""]
REVIEW_HEDGES = ["正直、", "個人的には", "全体的に", "強いて言えば", "", "", "", ""]
REVIEW_CLOSERS = {
    "pos": ["全体的にはおすすめできる職場です。", "また機会があれば働きたいです。", "初めてのバイトにもおすすめです。",
            "長く続けられる職場だと思います。", "迷っているなら応募してみて損はないです。"],
    "mid": ["良くも悪くも普通のバイトです。", "合う人には合うと思います。", "人によって評価が分かれそうです。",
            "可もなく不可もなくといったところです。"],
    "neg": ["正直あまりおすすめはしません。", "長く続けるのは難しいと感じました。", "応募する前に一度見学した方がいいです。",
            "二度と働きたくないです。", "もう少し待遇が改善されれば良いのですが。"],
}
SHORT_ENDINGS = ["。", "！", "。", "", "…", "!!", "。。", "w"]
SHORT_HEDGES = ["正直", "個人的には", "とにかく", "まあ", "一言でいうと", "結論、", "ぶっちゃけ", "強いて言えば"]

OFF_TOPIC = [
    "今日はすごくいい天気でした。", "明日は雨が降るらしいので傘を持っていこうと思います。", "最近朝晩が冷えてきましたね。",
    "台風が近づいているみたいで心配です。", "昨日食べた駅前のラーメンがとても美味しかった。", "週末は家族で温泉に行く予定です。",
    "新しくできたパン屋さんのクロワッサンが最高でした。", "夜ごはんはカレーにしようかな。", "うちの猫が最近よく寝ています。",
    "昨日のサッカーの試合、最後まで目が離せなかった！", "今年の夏は本当に暑かったですね。", "近所の桜がもうすぐ満開です。",
    "最近ハマっているドラマの続きが気になります。", "コンビニの新作スイーツ、食べました？", "明日から連休なので旅行に行きます。",
    "ダイエット中なのにケーキを食べてしまった。", "スマホの機種変更をしようか迷っています。", "久しぶりに友達とカラオケに行きました。",
    "朝のコーヒーがないと一日が始まりません。", "花粉症がつらい季節になってきました。", "駅前の商店街で福引きをしたらティッシュが当たった。",
    "推しのライブのチケットが当たりました！", "今日の晩ご飯は何にしよう。", "雨上がりに虹が出ていてきれいでした。",
]
AD_TEMPLATES = [
    "今すぐ稼げる！詳しくは {url} へ", "【副業で月収{man}万円】スマホだけで簡単！ {url}",
    "お金に困っていませんか？即日融資OK！ TEL {phone}", "LINE登録で{yen}円プレゼント→ {url}",
    "在宅ワークで誰でも日給{yen}円以上！まずは無料相談 {phone}", "激安ブランド品はこちら {url}",
    "★★最新の高収入バイト情報★★ {url} 今すぐクリック！", "ご紹介：1日5分の作業で月{man}万円 お問い合わせ {phone}",
    "【期間限定】登録するだけで{yen}円もらえる {url}", "稼ぎたい人集まれ！！ {url} で検索",
    "ダイエットサプリ初回無料 {url}", "完全在宅・ノルマなし・スマホ1台でOK 詳細は {url}",
]
AD_WORDS = ["kasegu", "money", "fukugyo", "easy-job", "rich", "bit-cash", "happy", "win", "lucky",
            "free-gift", "side-work", "best-deal"]
AD_TLDS = ["com", "net", "xyz", "biz", "info", "top", "jp"]
KEYBOARD_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "jkl", "asdf", "hjkl"]
REPEAT_CHARS = list("あーw！？。草んえ笑ｗ.☆8ぁっ")
KANA_FOR_VOWEL = {"a": "あ", "i": "い", "u": "う", "e": "え", "o": "お"}

SPAM_KINDS = ["keyboard_mash", "repeated_char", "advert", "off_topic", "near_duplicate"]
SPAM_KIND_SHARES = np.array([0.2, 0.15, 0.25, 0.2, 0.2])
SPAM_RATE = 0.10


# ------------------------------------------------------------------------------ helpers

def _ids(prefix: str, n: int) -> list[str]:
    width = max(5, len(str(n)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def _check_params(seed, name, n_users, n_items, days, n_reviews) -> None:
    if not isinstance(name, str) or not name.strip():
        raise DataError("make_job_board needs a non-empty name.")
    for label, value, low in (("n_users", n_users, 1), ("n_items", n_items, 1), ("days", days, 1),
                              ("n_reviews", n_reviews, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise DataError(f"make_job_board parameter {label} must be an integer >= {low}, got {value!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"make_job_board parameter seed must be a non-negative integer, got {seed!r}.")


def _employers(rng: np.random.Generator, n_items: int) -> tuple[list[str], np.ndarray]:
    """Unique employer names and the category index each mainly hires for."""
    n_emp = int(np.clip(round(n_items * 0.15), len(CATEGORY_NAMES), 2000))
    shares = np.array([CATEGORIES[c]["share"] for c in CATEGORY_NAMES])
    per_cat = np.maximum(1, np.floor(shares / shares.sum() * n_emp).astype(int))
    names: list[str] = []
    cats: list[int] = []
    seen: set[str] = set()
    for c, cname in enumerate(CATEGORY_NAMES):
        endings = CATEGORIES[cname]["endings"]
        made = attempts = 0
        while made < per_cat[c]:
            attempts += 1
            stem, ending = _pick(rng, EMPLOYER_STEMS), _pick(rng, endings)
            roll = rng.random()
            if cname == "医療・介護" and roll < 0.35:
                name = f"{'社会福祉法人' if rng.random() < 0.5 else '医療法人社団'}{stem}会"
            elif roll < 0.72:
                name = f"株式会社{stem}{ending}"
            elif roll < 0.9:
                name = f"{stem}{ending}株式会社"
            elif roll < 0.96:
                name = f"有限会社{stem}{ending}"
            else:
                name = f"合同会社{stem}{ending}"
            if attempts > 50 * (per_cat[c] + 10):  # vocabulary exhausted: number the rest
                name = f"{name}{made + 1}"
            if name in seen:
                continue
            seen.add(name)
            names.append(name)
            cats.append(c)
            made += 1
    return names, np.asarray(cats)


def _title(rng: np.random.Generator, cname: str, pref: str, wage: int) -> str:
    spec = CATEGORIES[cname]
    perks = GENERAL_PERKS + spec["perks"] * 3
    perk = _pick(rng, perks)
    pattern = _pick(rng, TITLE_PATTERNS)
    while "駅チカ" in pattern and perk == "駅チカ":
        perk = _pick(rng, perks)
    perk2 = _pick(rng, [p for p in perks if p != perk])
    station = _pick(rng, STATIONS.get(pref, [pref.rstrip("都府県") if pref != "北海道" else "札幌"]))
    return pattern.format(
        station=station, walk=int(rng.integers(1, 11)), job=_pick(rng, spec["jobs"]),
        perk=perk, perk2=perk2, wage=f"{wage:,}")


# ------------------------------------------------------------------------------ reviews

def _fill(rng: np.random.Generator, text: str) -> str:
    return text.format(
        wage=f"{int(rng.integers(105, 181)) * 10:,}", n=int(rng.integers(2, 6)),
        period=_pick(rng, ["1週間", "2週間", "1か月", "半月"]), days=int(rng.integers(1, 5)),
        walk=int(rng.integers(1, 11)), walk2=int(rng.integers(12, 26)), year=int(rng.integers(1, 5)),
        months=int(rng.integers(2, 37)), **{"raise": int(rng.integers(1, 6)) * 10})


def _genuine_review(rng: np.random.Generator, category: str, rating: int) -> str:
    """One natural review: fragments about several aspects, leaning with the rating."""
    p_pos = {1: 0.08, 2: 0.25, 3: 0.5, 4: 0.75, 5: 0.92}[rating]
    aspects = list(REVIEW_ASPECTS)
    form = rng.random()
    if form < 0.12:  # short: one or two clipped remarks
        k = 1 if rng.random() < 0.35 else 2
        parts = []
        for a in rng.choice(len(aspects), size=k, replace=False):
            tone = "short_pos" if rng.random() < p_pos else "short_neg"
            parts.append(_pick(rng, REVIEW_ASPECTS[aspects[a]][tone]))
        sep = _pick(rng, ["、", "。", "けど", " ", "。"]) if k == 2 else ""
        hedge = _pick(rng, SHORT_HEDGES) if rng.random() < 0.4 else ""
        return hedge + sep.join(parts) + _pick(rng, SHORT_ENDINGS)
    n_aspects = int(rng.choice([1, 2, 3], p=[0.2, 0.45, 0.35])) if form < 0.6 else int(rng.integers(3, 7))
    sentences = []
    opener = _pick(rng, REVIEW_OPENERS)
    if opener:
        sentences.append(_fill(rng, opener))
    chosen = rng.choice(len(aspects), size=min(n_aspects, len(aspects)), replace=False)
    prev_tone = None
    for j, a in enumerate(chosen):
        tone = "pos" if rng.random() < p_pos else "neg"
        s = _fill(rng, _pick(rng, REVIEW_ASPECTS[aspects[a]][tone]))
        if j and prev_tone and tone != prev_tone:
            s = _pick(rng, REVIEW_CONNECTORS) + s
        elif rng.random() < 0.15:
            s = _pick(rng, REVIEW_HEDGES) + s
        sentences.append(s)
        prev_tone = tone
        if rng.random() < 0.3:
            sentences.append(_pick(rng, CATEGORIES[category]["work"]))
    if n_aspects >= 3 or rng.random() < 0.3:
        mood = "pos" if rating >= 4 else "neg" if rating <= 2 else "mid"
        sentences.append(_pick(rng, REVIEW_CLOSERS[mood]))
    text = "".join(sentences)
    if rng.random() < 0.1:
        text = text.replace("。", "！", 1)
    if rng.random() < 0.08:
        text += _pick(rng, ["（笑）", "w", "！", "…"])
    return text


def _keyboard_mash(rng: np.random.Generator) -> str:
    row = _pick(rng, KEYBOARD_ROWS)
    n = int(rng.integers(4, 13)) if rng.random() < 0.65 else int(rng.integers(20, 70))
    if rng.random() < 0.5:  # a row swept repeatedly ("jkljkljkl")
        text = (row * (n // len(row) + 1))[:n]
    else:
        text = "".join(_pick(rng, row) for _ in range(n))
    mode = rng.random()
    if mode < 0.3:  # full width, as typed with the IME in alphanumeric mode
        text = "".join(chr(ord(c) + 0xFEE0) for c in text)
    elif mode < 0.5:  # IME in kana mode: vowels become kana, the rest stays full width
        text = "".join(KANA_FOR_VOWEL.get(c, chr(ord(c) + 0xFEE0)) for c in text)
    return text


def _repeated_char(rng: np.random.Generator) -> str:
    n = int(rng.integers(4, 16)) if rng.random() < 0.65 else int(rng.integers(30, 90))
    return _pick(rng, REPEAT_CHARS) * n


def _advert(rng: np.random.Generator) -> str:
    def one() -> str:
        url = (f"https://{_pick(rng, AD_WORDS)}{int(rng.integers(1, 999))}.{_pick(rng, AD_TLDS)}/"
               f"{''.join(_pick(rng, 'abcdefghjkmnpqrstuvwxyz0123456789') for _ in range(6))}")
        phone = (f"0{_pick(rng, ['90', '80', '70'])}-{int(rng.integers(1000, 10000))}-{int(rng.integers(1000, 10000))}"
                 if rng.random() < 0.7 else f"0120-{int(rng.integers(100, 1000))}-{int(rng.integers(100, 1000))}")
        return _pick(rng, AD_TEMPLATES).format(url=url, phone=phone, man=int(rng.integers(3, 11)) * 10,
                                               yen=f"{int(rng.integers(1, 31)) * 1000:,}")
    return "　".join(one() for _ in range(1 if rng.random() < 0.65 else int(rng.integers(2, 4))))


def _off_topic(rng: np.random.Generator) -> str:
    k = 1 if rng.random() < 0.4 else int(rng.integers(2, 5))
    return "".join(OFF_TOPIC[i] for i in rng.choice(len(OFF_TOPIC), size=k, replace=False))


def _near_duplicate(rng: np.random.Generator, original: str) -> str:
    """A copy of a real review with one character replaced, dropped or added."""
    swaps = "。！、はがをにでとのもてたいうかすなん"
    for _ in range(20):
        pos = int(rng.integers(len(original)))
        op = rng.random()
        if op < 0.5:
            new = original[:pos] + _pick(rng, swaps) + original[pos + 1:]
        elif op < 0.75 and len(original) > 3:
            new = original[:pos] + original[pos + 1:]
        else:
            new = original[:pos] + _pick(rng, swaps) + original[pos:]
        if new != original:
            return new
    return original + "。"


def _spam_counts(n_spam: int) -> np.ndarray:
    """Spam reviews per kind: every kind at least once (when there are enough), else by share."""
    if n_spam < len(SPAM_KINDS):
        return np.array([1] * n_spam + [0] * (len(SPAM_KINDS) - n_spam))
    rest = n_spam - len(SPAM_KINDS)
    raw = SPAM_KIND_SHARES * rest
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts))[: rest - counts.sum()]] += 1  # largest remainders
    return counts + 1


def _reviews(rng, n_reviews, employers, emp_cat, hiring, user_ids, applies, start, end) -> pd.DataFrame:
    """Reviews of companies; ``hiring`` holds the employer indices that have postings."""
    n_spam = int(round(n_reviews * SPAM_RATE))
    n_gen = n_reviews - n_spam
    span = (end - start).total_seconds()

    # Genuine reviews come from people who applied to the company, after they applied.
    pairs = applies.drop_duplicates(["user_id", "emp"])
    take = rng.choice(len(pairs), size=min(n_gen, len(pairs)), replace=False) if len(pairs) else np.array([], int)
    g_user = pairs["user_id"].to_numpy()[take].tolist()
    g_emp = pairs["emp"].to_numpy()[take].tolist()
    g_time = pairs["timestamp"].to_numpy()[take]
    g_created = [pd.Timestamp(t) + (end - pd.Timestamp(t)) * float(rng.random()) for t in g_time]
    for _ in range(n_gen - len(take)):  # not enough applications: anyone about anyone
        g_user.append(_pick(rng, user_ids))
        g_emp.append(int(_pick(rng, hiring)))
        g_created.append(start + pd.Timedelta(seconds=float(rng.random()) * span))
    g_rating = rng.choice(5, size=n_gen, p=[0.07, 0.13, 0.30, 0.32, 0.18]) + 1
    g_text = [_genuine_review(rng, CATEGORY_NAMES[emp_cat[e]], int(r)) for e, r in zip(g_emp, g_rating)]

    rows = {"text": g_text, "label": [0] * n_gen, "company": [employers[e] for e in g_emp],
            "user_id": g_user, "created_at": g_created, "rating": g_rating.tolist(),
            "kind": ["genuine"] * n_gen}
    for kind, count in zip(SPAM_KINDS, _spam_counts(n_spam)):
        for _ in range(int(count)):
            company = employers[_pick(rng, hiring)]
            if kind == "near_duplicate" and n_gen:
                src = int(rng.integers(n_gen))
                text, company, rating = _near_duplicate(rng, g_text[src]), rows["company"][src], int(g_rating[src])
            elif kind == "near_duplicate":
                text, rating = _near_duplicate(rng, _genuine_review(rng, _pick(rng, CATEGORY_NAMES), 3)), 3
            elif kind == "keyboard_mash":
                text, rating = _keyboard_mash(rng), int(rng.integers(1, 6))
            elif kind == "repeated_char":
                text, rating = _repeated_char(rng), int(rng.integers(1, 6))
            elif kind == "advert":
                text, rating = _advert(rng), 5 if rng.random() < 0.7 else int(rng.integers(1, 6))
            else:
                text, rating = _off_topic(rng), int(rng.integers(1, 6))
            rows["text"].append(text)
            rows["label"].append(1)
            rows["company"].append(company)
            rows["user_id"].append(_pick(rng, user_ids))
            rows["created_at"].append(start + pd.Timedelta(seconds=float(rng.random()) * span))
            rows["rating"].append(rating)
            rows["kind"].append(kind)
    df = pd.DataFrame(rows)
    df["created_at"] = pd.to_datetime(df["created_at"]).dt.floor("s").astype("datetime64[us]")
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)  # spam is not bunched at the end
    df.insert(0, "review_id", _ids("R", len(df)))
    df["rating"] = df["rating"].astype("int64")
    return df[REVIEW_COLUMNS + ["rating", "kind"]]


# ------------------------------------------------------------------------- the board

def hire_probability(selectivity, wage_z, fit, home) -> np.ndarray:
    """P(hire | apply): lower at selective employers and well-paid postings (more
    competition), higher when the category suits the user (``fit``, the user's taste
    share for it) and the posting is in the user's home prefecture (``home``)."""
    z = -2.2 - 0.9 * np.asarray(selectivity) - 0.45 * np.asarray(wage_z) + 4.0 * (np.asarray(fit) - 0.15) \
        + 0.9 * np.asarray(home, dtype=float)
    return 1.0 / (1.0 + np.exp(-z))



def make_job_board(seed: int = 0, name: str = "jobboard", n_users: int = 5000, n_items: int = 2000,
                   days: int = 90, n_reviews: int = 3000) -> Dataset:
    """A deterministic synthetic Japanese job board (users, postings, events, company reviews).

    Same seed, same frames; the window is ``days`` days ending 2026-09-30. Items carry
    title, category, prefecture, hourly_wage, employer and posted_at; users carry
    home_prefecture, age_band and favorite_category; reviews carry rating (1-5) and kind
    ("genuine" or the kind of meaningless text; label is 1 exactly when kind != "genuine").
    """
    _check_params(seed, name, n_users, n_items, days, n_reviews)
    rng = np.random.default_rng(int(seed))
    end = END_DATE + pd.Timedelta(days=1)  # exclusive: the last event falls on END_DATE
    start = end - pd.Timedelta(days=int(days))
    n_cat = len(CATEGORY_NAMES)

    pref_names = np.array([p[0] for p in PREFECTURES])
    regions = np.array([p[1] for p in PREFECTURES])
    pop = np.array([p[2] for p in PREFECTURES])
    # Postings concentrate in big cities more than people do.
    item_pref_p = pop ** 1.5 / (pop ** 1.5).sum()
    user_pref_p = pop ** 1.15 / (pop ** 1.15).sum()
    same_region = regions[:, None] == regions[None, :]
    geo = np.where(same_region, 0.12, 0.006)
    np.fill_diagonal(geo, 1.0)

    # ---- postings
    cat_share = np.array([CATEGORIES[c]["share"] for c in CATEGORY_NAMES])
    item_cat = rng.choice(n_cat, size=n_items, p=cat_share / cat_share.sum())
    item_pref = rng.choice(len(PREFECTURES), size=n_items, p=item_pref_p)
    employers, emp_cat = _employers(rng, n_items)
    item_emp = np.empty(n_items, dtype=int)
    for c in range(n_cat):  # a few big chains post most of a category's jobs (Zipf over employers)
        mask = item_cat == c
        pool = np.flatnonzero(emp_cat == c)
        w = 1.0 / np.arange(1, len(pool) + 1) ** 0.9
        item_emp[mask] = rng.choice(pool, size=int(mask.sum()), p=w / w.sum())
    lo = np.array([CATEGORIES[c]["wage"][0] for c in CATEGORY_NAMES])[item_cat]
    hi = np.array([CATEGORIES[c]["wage"][1] for c in CATEGORY_NAMES])[item_cat]
    city_bonus = np.where(pop[item_pref] > 7, 1.06, np.where(pop[item_pref] > 2.5, 1.02, 0.97))
    floor = np.array([WAGE_FLOOR.get(p, DEFAULT_WAGE_FLOOR) for p in pref_names])[item_pref]
    wage = (lo + (hi - lo) * rng.beta(1.6, 3.5, size=n_items)) * city_bonus
    wage = np.clip(np.round(wage / 10) * 10, np.maximum(lo, floor), np.maximum(hi, floor)).astype(int)
    # Posting day: from half a window before the start to the last day, at office hours.
    posted = (rng.integers(-(days // 2), days, size=n_items) + rng.uniform(9, 19, size=n_items) / 24)
    quality = rng.lognormal(0.0, 1.25, size=n_items)
    titles = [_title(rng, CATEGORY_NAMES[c], pref_names[p], int(w))
              for c, p, w in zip(item_cat, item_pref, wage)]
    # Standardised log wage within category (what a wage-sensitive user reacts to).
    lw = np.log(wage)
    cat_mean = np.bincount(item_cat, lw, n_cat) / np.maximum(np.bincount(item_cat, minlength=n_cat), 1)
    wage_z = lw - cat_mean[item_cat]
    wage_z = wage_z / (wage_z.std() or 1.0)

    # Freshness: rate(age) = FLOOR + exp(-age / TAU) for age >= 0; its mass inside the window.
    tau, fresh_floor = 12.0, 0.08
    a = np.maximum(posted, 0.0)
    b = float(days)
    e0, e1 = np.exp(-(a - posted) / tau), np.exp(-(b - posted) / tau)
    mass_floor = fresh_floor * (b - a)
    mass_exp = tau * (e0 - e1)
    attention = mass_floor + mass_exp

    # ---- users
    user_pref = rng.choice(len(PREFECTURES), size=n_users, p=user_pref_p)
    user_age = rng.choice(len(AGE_BANDS), size=n_users, p=AGE_WEIGHTS / AGE_WEIGHTS.sum())
    age_prior = np.array([CATEGORIES[c]["age"] for c in CATEGORY_NAMES]).T * cat_share  # age x cat
    age_prior = age_prior / age_prior.sum(axis=1, keepdims=True)
    taste = rng.gamma(2.0 * age_prior[user_age])  # Dirichlet(2 * prior): one to three favourites
    taste = taste / taste.sum(axis=1, keepdims=True)
    taste = 0.93 * taste + 0.07 / n_cat
    n_factors = 6
    u_lat = rng.normal(0, 1, size=(n_users, n_factors))
    i_lat = rng.normal(0, 1, size=(n_items, n_factors))
    wage_sens = rng.normal(0.4, 0.4, size=n_users)
    # Views per user: long-tailed (lognormal), every user at least 3.
    n_views = 3 + np.minimum(np.floor(rng.lognormal(np.log(26.0) - 0.6, 1.1, size=n_users)), 4 * n_items)
    n_views = n_views.astype(int)

    # ---- views: per user, an item from the user's own distribution (chunked over users)
    item_base = quality * attention
    v_user, v_item = [], []
    chunk = max(1, 400_000 // n_items)
    for s in range(0, n_users, chunk):
        u = np.arange(s, min(s + chunk, n_users))
        score = (taste[u][:, item_cat] * geo[user_pref[u]][:, item_pref] * item_base
                 * np.exp(0.28 * (u_lat[u] @ i_lat.T) + wage_sens[u, None] * wage_z))
        cdf = np.cumsum(score, axis=1)
        cdf /= cdf[:, -1:]
        cdf += np.arange(len(u))[:, None]  # rows laid end to end: one searchsorted for all
        reps = np.repeat(np.arange(len(u)), n_views[u])
        pos = np.searchsorted(cdf.ravel(), reps + rng.random(len(reps)), side="right")
        v_user.append(u[reps])
        v_item.append(np.minimum(pos - reps * n_items, n_items - 1))
    v_user = np.concatenate(v_user)
    v_item = np.concatenate(v_item)

    # View time: drawn from the posting's freshness rate inside the window (new postings
    # draw the attention), then the hour of the day from a daily rhythm.
    n = len(v_item)
    p_i, a_i, e0_i, e1_i = posted[v_item], a[v_item], e0[v_item], e1[v_item]
    from_exp = rng.random(n) < mass_exp[v_item] / attention[v_item]
    r = rng.random(n)
    t_exp = p_i - tau * np.log(e0_i - r * (e0_i - e1_i))
    t_flat = a_i + r * (b - a_i)
    t = np.where(from_exp, t_exp, t_flat)
    hour_w = np.array([2, 1, .5, .3, .3, .5, 1, 2, 3, 3, 3, 3, 5, 4, 3, 3, 3, 3, 4, 5, 6, 7, 7, 4], float)
    hour = rng.choice(24, size=n, p=hour_w / hour_w.sum()) + rng.random(n)
    t = np.floor(t) + hour / 24
    late = t < p_i  # the same day as the posting but before it went up
    t = np.where(late, p_i + rng.uniform(0.005, 0.2, n), t)
    t = np.minimum(t, b - 1e-5)

    # Favorites and applies follow a view of the same posting, more often when it suits.
    fit = taste[v_user, item_cat[v_item]]
    fav = rng.random(n) < np.clip(0.03 + 0.22 * fit, 0, 0.6)
    t_fav = t + rng.exponential(5 / 1440, n)
    app = rng.random(n) < np.where(fav, 0.3, np.clip(0.01 + 0.08 * fit, 0, 0.3))
    t_app = np.where(fav, t_fav, t) + rng.lognormal(np.log(30 / 1440), 1.5, n)
    # A person decides about a posting once, at the first view of it: repeat views (people
    # come back to a posting) never lead to an application. So a pair's chance of an
    # application is known at its first view, and nothing after it changes that chance.
    order = np.lexsort((t, v_item, v_user))  # by user, posting, then time
    pair = v_user[order].astype("int64") * n_items + v_item[order]
    first = np.zeros(n, bool)
    first[order[np.r_[True, pair[1:] != pair[:-1]]]] = True
    app &= first

    parts = []
    for mask, times, event in ((np.ones(n, bool), t, "view"), (fav, t_fav, "favorite"), (app, t_app, "apply")):
        df = pd.DataFrame({"u": v_user[mask], "i": v_item[mask], "t": times[mask], "event": event})
        df = df[df["t"] < b]
        if event != "view":  # one favorite / one application per user and posting: the first
            df = df.sort_values("t", kind="stable").drop_duplicates(["u", "i"])
        parts.append(df)

    # The true funnel probabilities of each view (what the draws above used), and hires.
    p_fav = np.clip(0.03 + 0.22 * fit, 0, 0.6)
    p_apply = np.where(first, p_fav * 0.3 + (1 - p_fav) * np.clip(0.01 + 0.08 * fit, 0, 0.3), 0.0)
    # Hires draw from a generator of their own, so every earlier draw (and the reviews
    # after) stays what it was before hires existed: same views, favorites, applies.
    hrng = np.random.default_rng([int(seed), 11])
    selectivity = hrng.normal(0.0, 0.8, size=len(employers))
    p_hire = hire_probability(selectivity[item_emp[v_item]], wage_z[v_item], fit,
                              user_pref[v_user] == item_pref[v_item])
    applied = parts[2]
    ph = pd.Series(p_hire).groupby([v_user, v_item]).first()
    ph_app = ph.reindex(pd.MultiIndex.from_arrays([applied["u"], applied["i"]])).to_numpy()
    hired = hrng.random(len(applied)) < ph_app
    t_hire = applied["t"].to_numpy() + hrng.lognormal(np.log(3.0), 0.6, len(applied))
    hires = pd.DataFrame({"u": applied["u"].to_numpy()[hired], "i": applied["i"].to_numpy()[hired],
                          "t": t_hire[hired], "event": "hire"})
    parts.append(hires[hires["t"] < b])
    ev = pd.concat(parts, ignore_index=True).sort_values(["t", "u"], kind="stable").reset_index(drop=True)

    user_ids = np.array(_ids("U", n_users), dtype=object)
    item_ids = np.array(_ids("J", n_items), dtype=object)
    start_ns = start.value
    ts = pd.to_datetime(start_ns + np.round(ev["t"].to_numpy() * 86400) * 1_000_000_000)
    interactions = pd.DataFrame({
        "user_id": user_ids[ev["u"].to_numpy()], "item_id": item_ids[ev["i"].to_numpy()],
        "timestamp": ts.astype("datetime64[us]"), "event": ev["event"].to_numpy(dtype=object),
        "weight": ev["event"].map(DEFAULT_EVENT_WEIGHTS).to_numpy(dtype="float64"),
    })
    oracle = pd.DataFrame({
        "user_id": user_ids[v_user], "item_id": item_ids[v_item],
        "time": pd.to_datetime(start_ns + np.round(t * 86400) * 1_000_000_000).astype("datetime64[us]"),
        "p_apply": p_apply, "p_hire": p_hire,
    })
    posted_at = pd.to_datetime(start_ns + np.round(posted * 86400) * 1_000_000_000).astype("datetime64[us]")
    items = pd.DataFrame({
        "item_id": item_ids, "title": titles, "category": np.array(CATEGORY_NAMES)[item_cat],
        "prefecture": pref_names[item_pref], "hourly_wage": wage.astype("int64"),
        "employer": np.array(employers, dtype=object)[item_emp], "posted_at": posted_at,
    })
    users = pd.DataFrame({
        "user_id": user_ids, "home_prefecture": pref_names[user_pref],
        "age_band": np.array(AGE_BANDS)[user_age],
        "favorite_category": np.array(CATEGORY_NAMES)[taste.argmax(axis=1)],
    })

    reviews = None
    if n_reviews:
        applies = ev[ev["event"] == "apply"]
        applies = pd.DataFrame({"user_id": user_ids[applies["u"].to_numpy()],
                                "emp": item_emp[applies["i"].to_numpy()],
                                "timestamp": pd.to_datetime(start_ns + np.round(applies["t"].to_numpy() * 86400)
                                                            * 1_000_000_000)})
        reviews = _reviews(rng, int(n_reviews), employers, emp_cat, np.unique(item_emp), list(user_ids),
                           applies, start, end)

    info = {
        "generator": "engine.data.synthetic.make_job_board", "version": GENERATOR_VERSION,
        "seed": int(seed), "n_users": int(n_users), "n_items": int(n_items), "days": int(days),
        "n_reviews": int(n_reviews), "start": str(start.date()), "end": str(END_DATE.date()),
        "n_employers": len(employers), "categories": CATEGORY_NAMES,
        "event_weights": dict(DEFAULT_EVENT_WEIGHTS), "spam_rate": SPAM_RATE,
    }
    return Dataset(name=name, interactions=interactions, users=users, items=items, reviews=reviews,
                   source=f"synthetic job board (seed {int(seed)})", info=info, oracle=oracle)
