"""Names the news uses for the same country, government or body, known for every corpus.

A reader says "Kiev" of an article that says "Ukraine", "the Lib Dems" of one that
says "Liberal Democrat", "Germans" of one that says "Germany". These are general
knowledge, not any article's: capitals for their country, the people of a country
for the country, and the short names of parties and international bodies. A seat of
government ("Downing Street", "the Kremlin") is not here: it stands for a government,
which an article names by its leader. A group is used only for a name that no
sentence of the corpus holds (bot.answer.query), so a corpus that says "Moscow" is
searched for Moscow, never for every sentence about Russia. An alias file
(aliases.toml) says what one corpus means by its names; these come after it.
"""

from __future__ import annotations

from functools import cache

from bot.index.aliases import Aliases, AliasGroup

ORIGIN = "general knowledge"

# One group a line (a line opening with "|" carries on the one before), its names split
# by "|": the name first, then other names, the people and the capital.
# A people's name that is also part of other names is left out: "American" of "Latin
# American countries" is not the United States (nor "Indian" of "the Indian Ocean" India).
_GROUPS = """
United States|US|U.S.|USA|U.S.A.|the States|Washington
United Kingdom|UK|U.K.|Britain|Great Britain|British|Brits|Briton|Britons|London
European Union|EU|E.U.|Brussels
Ukraine|Ukrainian|Ukrainians|Kiev|Kyiv
Russia|Russian|Russians|Moscow
China|Chinese|Beijing|Peking
Japan|Japanese|Tokyo
North Korea|North Korean|North Koreans|DPRK|Pyongyang
South Korea|South Korean|South Koreans|Seoul
Korea|Korean|Koreans
Germany|German|Germans|Berlin
France|French|Paris
Italy|Italian|Italians|Rome
Spain|Spanish|Spaniards|Madrid
Portugal|Portuguese|Lisbon
Ireland|Irish|Dublin
Netherlands|Holland|Dutch|Amsterdam|The Hague
Belgium|Belgian|Belgians|Brussels
Switzerland|Swiss|Bern
Austria|Austrian|Austrians|Vienna
Poland|Polish|Poles|Warsaw
Greece|Greek|Greeks|Athens
Sweden|Swedish|Swedes|Stockholm
Norway|Norwegian|Norwegians|Oslo
Denmark|Danish|Danes|Copenhagen
Finland|Finnish|Finns|Helsinki
Hungary|Hungarian|Hungarians|Budapest
Czech Republic|Czech|Czechs|Prague
Romania|Romanian|Romanians|Bucharest
Serbia|Serbian|Serbs|Belgrade
Belarus|Belarusian|Belarusians|Minsk
Turkey|Turkish|Turks|Ankara
Israel|Israeli|Israelis
Iran|Iranian|Iranians|Tehran
Iraq|Iraqi|Iraqis|Baghdad
Syria|Syrian|Syrians|Damascus
Afghanistan|Afghan|Afghans|Kabul
Pakistan|Pakistani|Pakistanis|Islamabad
India|New Delhi|Delhi
Saudi Arabia|Saudi|Saudis|Riyadh
Egypt|Egyptian|Egyptians|Cairo
Libya|Libyan|Libyans|Tripoli
Sudan|Sudanese|Khartoum
Nigeria|Nigerian|Nigerians|Abuja
Kenya|Kenyan|Kenyans|Nairobi
South Africa|South African|South Africans|Pretoria
Vietnam|Vietnamese|Hanoi
Thailand|Thai|Thais|Bangkok
Indonesia|Indonesian|Indonesians|Jakarta
Philippines|Filipino|Filipinos|Manila
Malaysia|Malaysian|Malaysians|Kuala Lumpur
Myanmar|Burma|Burmese|Naypyidaw|Yangon
Cambodia|Cambodian|Cambodians|Phnom Penh
Laos|Lao|Laotian|Vientiane
Taiwan|Taiwanese|Taipei
Australia|Australian|Australians|Aussie|Aussies|Canberra
New Zealand|New Zealander|New Zealanders|Kiwi|Kiwis|Wellington
Canada|Canadian|Canadians|Ottawa
Mexico|Mexican|Mexicans|Mexico City
Brazil|Brazilian|Brazilians|Brasilia
Argentina|Argentine|Argentinian|Argentinians|Buenos Aires
Chile|Chilean|Chileans|Santiago
Colombia|Colombian|Colombians|Bogota
Venezuela|Venezuelan|Venezuelans|Caracas
Cuba|Cuban|Cubans|Havana
United Nations|UN|U.N.
UN refugee agency|UNHCR|UN High Commissioner for Refugees|UN refugees agency
|United Nations High Commissioner for Refugees|United Nations refugee agency
North Atlantic Treaty Organisation|Nato|NATO|North Atlantic Treaty Organization
|North Atlantic alliance
World Trade Organisation|WTO|World Trade Organization
International Monetary Fund|IMF
World Health Organisation|World Health Organization
Organization of the Petroleum Exporting Countries|Opec|OPEC
European Central Bank|ECB
Federal Reserve|US Federal Reserve|the Fed|US central bank
Bank of England|BoE
National Health Service|NHS
Conservative Party|Conservatives|Conservative|Tories|Tory
Labour Party|Labour
Liberal Democrats|Liberal Democrat|Lib Dems|Lib Dem|LibDems
Republican Party|Republicans|Republican|GOP
Democratic Party|Democrats|Democrat|Dems
"""


@cache
def common_names() -> Aliases:
    """Return the general-knowledge groups, indexed like an alias file's (built once)."""
    aliases = Aliases()
    for group in _GROUPS.strip().replace("\n|", "|").splitlines():
        aliases.add(AliasGroup(tuple(group.split("|")), ORIGIN))
    return aliases
