"""Gazetteer data: every UN member state, the UN and EU, seats of government and agencies.

One line per actor: ``CODE|names|demonyms|capitals and metonyms``; alternatives are separated
by ``;`` and the first name is the display name. Matching is case-sensitive (so "US" is not
"us"), and the longest surface form wins. Edit here to teach the classifier a new spelling.
"""

from __future__ import annotations

from monitor.classify.target import TARGET

# fmt: off
STATES = """\
AF|Afghanistan|Afghan|Kabul
AL|Albania|Albanian|Tirana
DZ|Algeria|Algerian|Algiers
AD|Andorra|Andorran|Andorra la Vella
AO|Angola|Angolan|Luanda
AG|Antigua and Barbuda|Antiguan|St John's
AR|Argentina|Argentine;Argentinian|Buenos Aires
AM|Armenia|Armenian|Yerevan
AU|Australia|Australian|Canberra
AT|Austria|Austrian|Vienna
AZ|Azerbaijan|Azerbaijani;Azeri|Baku
BS|Bahamas;The Bahamas|Bahamian|Nassau
BH|Bahrain|Bahraini|Manama
BD|Bangladesh|Bangladeshi|Dhaka
BB|Barbados|Barbadian|Bridgetown
BY|Belarus|Belarusian;Belarussian|Minsk
BE|Belgium|Belgian|
BZ|Belize|Belizean|Belmopan
BJ|Benin|Beninese|Porto-Novo;Cotonou
BT|Bhutan|Bhutanese|Thimphu
BO|Bolivia|Bolivian|La Paz;Sucre
BA|Bosnia and Herzegovina;Bosnia|Bosnian|Sarajevo
BW|Botswana|Botswanan;Motswana|Gaborone
BR|Brazil|Brazilian|Brasilia;Brasília
BN|Brunei;Brunei Darussalam|Bruneian|Bandar Seri Begawan
BG|Bulgaria|Bulgarian|Sofia
BF|Burkina Faso|Burkinabe;Burkinabè|Ouagadougou
BI|Burundi|Burundian|Gitega;Bujumbura
CV|Cabo Verde;Cape Verde|Cape Verdean|Praia
KH|Cambodia|Cambodian|Phnom Penh
CM|Cameroon|Cameroonian|Yaounde;Yaoundé
CA|Canada|Canadian|Ottawa;Global Affairs Canada;Public Safety Canada
CF|Central African Republic|Central African|Bangui
TD|Chad|Chadian|N'Djamena
CL|Chile|Chilean|Santiago
CN|China;People's Republic of China;PRC|Chinese|Beijing;Zhongnanhai
CO|Colombia|Colombian|Bogota;Bogotá
KM|Comoros|Comoran;Comorian|Moroni
CG|Republic of the Congo;Congo-Brazzaville|Congolese|Brazzaville
CD|Democratic Republic of the Congo;DR Congo;DRC|Congolese|Kinshasa
CR|Costa Rica|Costa Rican|San Jose;San José
CI|Ivory Coast;Côte d'Ivoire;Cote d'Ivoire|Ivorian|Yamoussoukro;Abidjan
HR|Croatia|Croatian|Zagreb
CU|Cuba|Cuban|Havana
CY|Cyprus|Cypriot|Nicosia
CZ|Czech Republic;Czechia|Czech|Prague
DK|Denmark|Danish;Dane|Copenhagen
DJ|Djibouti|Djiboutian|
DM|Dominica|Dominican|Roseau
DO|Dominican Republic|Dominican|Santo Domingo
EC|Ecuador|Ecuadorian;Ecuadorean|Quito
EG|Egypt|Egyptian|Cairo
SV|El Salvador|Salvadoran;Salvadorean|San Salvador
GQ|Equatorial Guinea|Equatorial Guinean;Equatoguinean|Malabo
ER|Eritrea|Eritrean|Asmara
EE|Estonia|Estonian|Tallinn
SZ|Eswatini;Swaziland|Swazi;Eswatini|Mbabane
ET|Ethiopia|Ethiopian|Addis Ababa
FJ|Fiji|Fijian|Suva
FI|Finland|Finnish;Finn|Helsinki
FR|France|French|Paris;Elysee;Élysée;Quai d'Orsay
GA|Gabon|Gabonese|Libreville
GM|Gambia;The Gambia|Gambian|Banjul
GE|Georgia|Georgian|Tbilisi
DE|Germany|German|Berlin;Bundestag;Bonn;Frankfurt;Munich
GH|Ghana|Ghanaian|Accra
GR|Greece|Greek|Athens
GD|Grenada|Grenadian|St George's
GT|Guatemala|Guatemalan|Guatemala City
GN|Guinea|Guinean|Conakry
GW|Guinea-Bissau|Bissau-Guinean|Bissau
GY|Guyana|Guyanese|Georgetown
HT|Haiti|Haitian|Port-au-Prince
HN|Honduras|Honduran|Tegucigalpa
HU|Hungary|Hungarian|Budapest
IS|Iceland|Icelandic;Icelander|Reykjavik;Reykjavík
IN|India|Indian|New Delhi;Delhi;Mumbai;Hyderabad
ID|Indonesia|Indonesian|Jakarta
IR|Iran;Islamic Republic of Iran|Iranian|Tehran;Teheran;Mashhad
IQ|Iraq|Iraqi|Baghdad
IE|Ireland|Irish|Dublin
IL|Israel|Israeli|Jerusalem
IT|Italy|Italian|Rome
JM|Jamaica|Jamaican|Kingston
JP|Japan|Japanese|Tokyo
JO|Jordan|Jordanian|Amman
KZ|Kazakhstan|Kazakh;Kazakhstani|Astana;Nur-Sultan;Akorda
KE|Kenya|Kenyan|Nairobi
KI|Kiribati|I-Kiribati|Tarawa
KP|North Korea;Democratic People's Republic of Korea;DPRK|North Korean|Pyongyang
KR|South Korea;Republic of Korea|South Korean|Seoul
KW|Kuwait|Kuwaiti|Kuwait City
KG|Kyrgyzstan;Kyrgyz Republic;Kirgizia|Kyrgyz;Kirghiz|Bishkek
LA|Laos;Lao PDR|Lao;Laotian|Vientiane
LV|Latvia|Latvian|Riga
LB|Lebanon|Lebanese|Beirut
LS|Lesotho|Basotho;Mosotho|Maseru
LR|Liberia|Liberian|Monrovia
LY|Libya|Libyan|Tripoli
LI|Liechtenstein|Liechtensteiner|Vaduz
LT|Lithuania|Lithuanian|Vilnius
LU|Luxembourg|Luxembourgish;Luxembourger|
MG|Madagascar|Malagasy|Antananarivo
MW|Malawi|Malawian|Lilongwe
MY|Malaysia|Malaysian|Kuala Lumpur;Putrajaya
MV|Maldives|Maldivian|
ML|Mali|Malian|Bamako
MT|Malta|Maltese|Valletta
MH|Marshall Islands|Marshallese|Majuro
MR|Mauritania|Mauritanian|Nouakchott
MU|Mauritius|Mauritian|Port Louis
MX|Mexico|Mexican|Mexico City
FM|Micronesia;Federated States of Micronesia|Micronesian|Palikir
MD|Moldova|Moldovan|Chisinau;Chișinău
MC|Monaco|Monegasque|
MN|Mongolia|Mongolian|Ulaanbaatar;Ulan Bator
ME|Montenegro|Montenegrin|Podgorica
MA|Morocco|Moroccan|Rabat
MZ|Mozambique|Mozambican|Maputo
MM|Myanmar;Burma|Myanmarese;Burmese|Naypyidaw;Naypyitaw
NA|Namibia|Namibian|Windhoek
NR|Nauru|Nauruan|Yaren
NP|Nepal|Nepali;Nepalese|Kathmandu
NL|Netherlands;The Netherlands;Holland|Dutch|Amsterdam;The Hague
NZ|New Zealand|New Zealander|Wellington
NI|Nicaragua|Nicaraguan|Managua
NE|Niger|Nigerien|Niamey
NG|Nigeria|Nigerian|Abuja
MK|North Macedonia;Macedonia|Macedonian|Skopje
NO|Norway|Norwegian|Oslo
OM|Oman|Omani|Muscat
PK|Pakistan|Pakistani|Islamabad;Rawalpindi;Peshawar;Quetta;Karachi
PW|Palau|Palauan|Ngerulmud
PA|Panama|Panamanian|Panama City
PG|Papua New Guinea|Papua New Guinean|Port Moresby
PY|Paraguay|Paraguayan|Asuncion;Asunción
PE|Peru|Peruvian|Lima
PH|Philippines;The Philippines|Philippine;Filipino|Manila
PL|Poland|Polish;Pole|Warsaw
PT|Portugal|Portuguese|Lisbon
QA|Qatar|Qatari|Doha
RO|Romania|Romanian|Bucharest
RU|Russia;Russian Federation|Russian|Moscow;Kremlin;The Kremlin;the Kremlin
RW|Rwanda|Rwandan|Kigali
KN|Saint Kitts and Nevis;St Kitts and Nevis|Kittitian|Basseterre
LC|Saint Lucia;St Lucia|Saint Lucian|Castries
VC|Saint Vincent and the Grenadines;St Vincent and the Grenadines|Vincentian|Kingstown
WS|Samoa|Samoan|Apia
SM|San Marino|Sammarinese|
ST|Sao Tome and Principe;São Tomé and Príncipe|Santomean|São Tomé;Sao Tome
SA|Saudi Arabia;Kingdom of Saudi Arabia|Saudi|Riyadh
SN|Senegal|Senegalese|Dakar
RS|Serbia|Serbian;Serb|Belgrade
SC|Seychelles|Seychellois|
SL|Sierra Leone|Sierra Leonean|Freetown
SG|Singapore|Singaporean|
SK|Slovakia|Slovak;Slovakian|Bratislava
SI|Slovenia|Slovenian;Slovene|Ljubljana
SB|Solomon Islands|Solomon Islander|Honiara
SO|Somalia|Somali|Mogadishu
ZA|South Africa|South African|Pretoria;Cape Town
SS|South Sudan|South Sudanese|Juba
ES|Spain|Spanish;Spaniard|Madrid
LK|Sri Lanka|Sri Lankan|Colombo;Sri Jayawardenepura Kotte
SD|Sudan|Sudanese|Khartoum
SR|Suriname|Surinamese|Paramaribo
SE|Sweden|Swedish;Swede|Stockholm
CH|Switzerland|Swiss|Bern;Berne
SY|Syria;Syrian Arab Republic|Syrian|Damascus
TJ|Tajikistan|Tajik;Tajikistani|Dushanbe
TZ|Tanzania|Tanzanian|Dodoma;Dar es Salaam
TH|Thailand|Thai|Bangkok
TL|Timor-Leste;East Timor|Timorese|Dili
TG|Togo|Togolese|Lome;Lomé
TO|Tonga|Tongan|Nuku'alofa
TT|Trinidad and Tobago|Trinidadian|Port of Spain
TN|Tunisia|Tunisian|Tunis
TR|Turkey;Türkiye;Turkiye|Turkish;Turk|Ankara;Istanbul
TM|Turkmenistan|Turkmen|Ashgabat;Ashkhabad
TV|Tuvalu|Tuvaluan|Funafuti
UG|Uganda|Ugandan|Kampala
UA|Ukraine|Ukrainian|Kyiv;Kiev
AE|United Arab Emirates;UAE;U.A.E.;Emirates|Emirati|Abu Dhabi;Dubai
GB|United Kingdom;UK;U.K.;Britain;Great Britain|British;Briton|\
London;Foreign Office;FCDO;Downing Street;Whitehall;OFSI;HM Treasury;\
Office of Financial Sanctions Implementation
US|United States;United States of America;US;U.S.;USA;U.S.A.;America|American|\
Washington;White House;the White House;The White House;State Department;US State Department;\
State Dept;State Dept.;Executive Order;Continuation of the National Emergency;\
Department of State;Treasury;US Treasury;U.S. Treasury;Treasury Department;Department of the Treasury;\
OFAC;Office of Foreign Assets Control;Pentagon;Congress;Rewards for Justice
UY|Uruguay|Uruguayan|Montevideo
UZ|Uzbekistan|Uzbek;Uzbekistani|Tashkent
VU|Vanuatu|Ni-Vanuatu|Port Vila
VE|Venezuela|Venezuelan|Caracas
VN|Vietnam;Viet Nam|Vietnamese|Hanoi
YE|Yemen|Yemeni|Sanaa;Sana'a
ZM|Zambia|Zambian|Lusaka
ZW|Zimbabwe|Zimbabwean|Harare
"""

# Leaders and ministers who speak for their state; same line format, names only.
LEADERS = """\
RU|Putin;Vladimir Putin;Lavrov;Sergei Lavrov;Peskov;Dmitry Peskov;Kabulov;Zamir Kabulov||
CN|Xi Jinping;Wang Yi||
US|Trump;Donald Trump;Biden;Rubio;Marco Rubio;Biden administration;Trump administration;Blinken;\
Antony Blinken||
GB|Starmer;Keir Starmer||
FR|Macron;Emmanuel Macron||
IN|Modi;Narendra Modi;Jaishankar;S. Jaishankar||
IR|Pezeshkian;Araghchi;Abbas Araghchi||
TR|Erdogan;Erdoğan;Fidan;Hakan Fidan||
BY|Lukashenko;Alexander Lukashenko||
KZ|Tokayev;Kassym-Jomart Tokayev||
UZ|Mirziyoyev;Shavkat Mirziyoyev||
TJ|Rahmon;Emomali Rahmon||
KG|Japarov;Sadyr Japarov||
TM|Berdimuhamedov;Serdar Berdimuhamedov||
AZ|Aliyev;Ilham Aliyev||
EG|Sisi;al-Sisi;Abdel Fattah al-Sisi||
NI|Ortega;Daniel Ortega||
VE|Maduro;Nicolas Maduro||
UN|Guterres;Antonio Guterres||
"""

# International bodies that can act; same line format.
BODIES = """\
UN|United Nations;UN;U.N.;Security Council;UN Security Council;U.N. Security Council;UNSC;General Assembly;\
1988 Committee;1988 committee;1988 sanctions committee;1988 Sanctions Committee;Taliban sanctions committee;\
UN sanctions committee;Sanctions committee;sanctions committee;Sanctions Committee;\
1988 panel;1988 sanctions panel;1988 Sanctions Panel;UNSC panel;UN sanctions panel;\
Monitoring Team;Human Rights Council;UNAMA||
EU|European Union;EU;E.U.;European Commission;European Council;Council of the EU;\
Council of the European Union;EU Council;EEAS;European External Action Service|European|Brussels
"""

# Names that are never actors but must be recognised so they do not leak into one:
# regions containing a demonym ("Latin American") and non-state targets of hard negatives.
NON_ACTORS = (
    "Latin America", "Latin American", "South America", "South American", "North America",
    "North American", "Central America", "Central American", "Central Asia", "Central Asian",
    "South Asia", "South Asian", "Southeast Asia", "Southeast Asian", "Middle East", "Gulf",
    "West Africa", "East Africa", "Washington state", "Washington State", "New Mexico",
    "Georgia state",
)
# Targets that are not ours; the target's look-alikes (the Pakistani Taliban) come from seeds/target.yaml.
OTHER_TARGETS = (
    *TARGET.lookalikes,
    "Palestine", "Palestinian", "State of Palestine", "Kosovo", "Somaliland", "Taiwan", "Western Sahara",
    "Islamic State", "ISIS", "ISIS-K", "ISIL", "ISIL-K", "ISIL-Khorasan", "ISKP", "Islamic State Khorasan",
    "Daesh", "al-Qaeda", "Al-Qaeda", "al-Qaida", "Al-Qaida", "Hamas", "Hezbollah", "Houthis",
    "Durand Line", "FIFA", "ICC", "International Criminal Court", "International Cricket Council",
    "Cricket Australia", "Hong Kong", "Northern Cyprus", "Abkhazia", "South Ossetia",
)

# The target side (the Taliban's names, Afghanistan's state money) is data next to the baseline.
TALIBAN_ALIASES = TARGET.aliases
CENTRAL_BANK = TARGET.state_money
# fmt: on
