"""English given names and their common nicknames and diminutives, as data.

Each line: the formal name, a colon, then the names that stand for it. A name may appear under more than
one formal name (Alex: Alexander and Alexandra); `groups` then gives both. Synthetic data only: these are
ordinary given names, not people.
"""

TABLE = """
abigail: abi abby abbie gail
alexander: alex alec alexa sandy xander zander
alexandra: alex alexa sandra sandy lexi lexie
alfred: alf alfie fred freddie
andrew: andy drew
anthony: tony ant
barbara: barb babs
benjamin: ben benny benji
bernard: bernie
catherine: cath cathy kate katie kat cat kathryn katherine kathy kay
charles: charlie chas chuck chaz
charlotte: charlie lottie lotte
christina: chris chrissie tina christine kirsty kirstie
christopher: chris kit topher
daniel: dan danny
david: dave davey davy
deborah: debbie debs deb
dorothy: dot dotty dolly
edward: ed eddie ted teddy ned
eleanor: ellie nell nellie elle
elizabeth: liz lizzie lizzy beth betty bess bessie eliza lisa libby elsie betsy
emily: em emmy millie
frances: fran fanny frankie
francis: frank frankie
frederick: fred freddie freddy
gabriel: gabe gabby
gabriella: gabby ella gabi
geoffrey: geoff jeff
gerald: gerry jerry
harold: harry hal
harrison: harry
henry: harry hal hank
isabella: bella izzy isabel isobel belle
jacob: jake jay
james: jim jimmy jamie jim jem
jennifer: jen jenny jenni
jessica: jess jessie
john: jack johnny jon
jonathan: jon jonny jonty nathan
joseph: joe joey
joshua: josh
katherine: kate katie kathy kath kay
kenneth: ken kenny
lawrence: larry laurie
leonard: len lenny leo
lucy: lu lulu
margaret: maggie meg peggy marge madge molly greta daisy
matilda: tilly tilda mattie
matthew: matt matty
michael: mike mick micky mikey mickey
nathaniel: nat nate nathan
nicholas: nick nicky nico
oliver: ollie olly
olivia: liv livvy ollie
patricia: pat patty trish tricia
patrick: pat paddy
peter: pete
philip: phil pip
rebecca: becky becca bex
richard: rich rick ricky dick richie
robert: rob bob bobby robbie bert
ronald: ron ronnie
samantha: sam sammie sammy
samuel: sam sammy
sarah: sally sadie sara
stephen: steve stevie steven
susan: sue susie suzy
theodore: theo ted teddy
thomas: tom tommy
timothy: tim timmy
victoria: vicky vicki tori
william: will bill billy willie liam
zachary: zach zack
"""


def _parse(text: str) -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for line in text.strip().splitlines():
        formal, _, rest = line.partition(":")
        formal = formal.strip()
        for name in (formal, *rest.split()):
            groups.setdefault(name, set()).add(formal)
    return {name: frozenset(formals) for name, formals in groups.items()}


GROUPS = _parse(TABLE)


def groups(name: str) -> frozenset[str]:
    """The formal names `name` (lower case) may stand for; the name itself when it is in no group."""
    return GROUPS.get(name, frozenset((name,)))


def same_name(a: str, b: str) -> bool:
    """Whether two lower-case given names can be one name: one a nickname of the other, or both of one."""
    return a == b or bool(groups(a) & groups(b))
