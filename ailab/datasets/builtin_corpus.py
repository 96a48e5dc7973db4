"""The built-in corpus: short children's stories generated from a seed, so the default pipeline needs no network.

`generate_builtin_corpus(num_stories, seed)` writes TinyStories-like stories from a small story grammar that is
part of this file (every word list and sentence template is our own; no text is copied from anywhere). A story is
a hero (a child or a small animal, with consistent pronouns), a friend, a grown-up, a place and an object, put
through one of 20 plot shapes (a lost toy, a new friend, a fear overcome, sharing, a trip, spoiled weather,
learning a skill, helping an animal, a misunderstanding, a surprise, growing a plant, owning up to a mistake, a
race, bedtime, a new pet, helping a neighbour, a journey, tidying up, baking, a sick day). Every plot has a
beginning that introduces the hero by name, a problem, middle events, dialogue in quotes with speech verbs that
fit the mood, feelings, a resolution and an ending or a moral. Each step picks one of several sentence templates,
and a per-story pace keeps or drops optional sentences, so two stories rarely share more than their skeleton.

Trade-offs, measured for the defaults (6,000 stories, seed 0; `python benchmarks/bench_builtin_corpus.py`):
- Size: 4.7 MB of ASCII text, 90-217 words a story (median 144, like TinyStories): big enough that a small model
  trained for a few minutes on CPU has not memorised it, small enough to tokenize and pack in seconds.
- Vocabulary: about 2,200 distinct lowercase words, 2,100 of them seen at least 5 times, so a small model can learn
  every word. A BPE tokenizer asked for 8,192 tokens stops near 4,200 on this text (~1.1M tokens in all).
- Time: about 0.5 s of CPU for 6,000 stories, pure Python, no dependencies.
- A grammar is more repetitive than people are: gzip ratio 0.25 against 0.31 for real TinyStories, and a held-out
  word-bigram model needs 4.9 bits/word against 6.7. Validation loss is lower than on real TinyStories and samples
  drift into the grammar's phrasings. That is the price of a corpus that is free, offline and reproducible; point
  the pipeline at a real dataset for research results.

Determinism: one `random.Random(seed)` drives every choice, choices are only ever made from tuples (never from
sets, whose order could vary), so the same `(num_stories, seed)` gives the same list on every machine and under
every PYTHONHASHSEED. Duplicate stories are dropped and replaced, so every returned story is distinct and a
train/validation split by story can never put the same text on both sides.
"""

from __future__ import annotations

import itertools
import numbers
import random
import re
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------------------------
# Word lists. Tuples, not sets: rng.choice over a tuple is reproducible.
# --------------------------------------------------------------------------------------------------------------

_GIRL_NAMES = (
    "Lily", "Mia", "Emma", "Zoe", "Ava", "Ella", "Ruby", "Rosa", "Nora", "Maya", "Lucy", "Sara", "Anna", "Hana",
    "Amara", "Priya", "Leila", "Chloe", "Grace", "Ivy", "Daisy", "Hazel", "Poppy", "Stella", "Luna", "Alice", "Clara",
    "Nina", "Tara", "Elsa", "Wren", "Iris", "Jade", "Kira", "Lena", "Mila", "Nadia", "Olive", "Pearl", "Rita", "Sofia",
    "Tess", "Uma", "Vera", "Willa", "Yara", "Zara", "Bella", "Fern", "June", "Kate", "Lola", "Molly", "Nell", "Penny",
    "Rose", "Sadie", "Tilly", "Violet", "Amy", "Beth", "Cora", "Dina", "Eva", "Gemma", "Holly", "Isla", "Josie",
    "Layla", "Mei", "Noor", "Aisha", "Fatima", "Sakura", "Ines", "Ayla", "Greta", "Hattie", "Maisie", "Talia",
)
_BOY_NAMES = (
    "Tom", "Ben", "Sam", "Max", "Leo", "Jack", "Finn", "Noah", "Liam", "Eli", "Omar", "Ravi", "Kai", "Hugo", "Theo",
    "Oscar", "Felix", "Jonah", "Milo", "Owen", "Toby", "Luke", "Adam", "Arlo", "Caleb", "Dev", "Ezra", "Gabe",
    "Henry", "Ian", "Jamal", "Kofi", "Luis", "Marco", "Nico", "Ollie", "Pablo", "Rory", "Sami", "Tariq", "Umar",
    "Victor", "Wes", "Yusuf", "Zack", "Alfie", "Bobby", "Danny", "Eddie", "Freddie", "George", "Harry", "Isaac",
    "Jake", "Kenji", "Lars", "Matteo", "Ned", "Otis", "Pete", "Ray", "Sunil", "Tim", "Will", "Arjun", "Hiro",
    "Jonas", "Bruno", "Cyrus", "Emil", "Ivan", "Mason", "Reuben",
)
_ANIMAL_NAMES = (
    "Pip", "Coco", "Biscuit", "Nutmeg", "Pepper", "Ziggy", "Bubbles", "Sunny", "Patch", "Button", "Clover", "Maple",
    "Pebble", "Mochi", "Toffee", "Hopper", "Whiskers", "Bramble", "Acorn", "Dot", "Fizz", "Juniper", "Marble",
    "Noodle", "Puddle", "Sprout", "Tumble", "Waffle", "Bean", "Cricket", "Dash", "Ginger", "Honey", "Jelly", "Muffin",
    "Pudding", "Rusty", "Scout", "Twig", "Willow", "Flick", "Nibbles", "Socks", "Bingo", "Misty", "Thistle",
)
# (kind, family name for the grown-ups, home)
_ANIMALS = (
    ("bunny", "Rabbit", "in a snug burrow under an old oak tree"),
    ("fox", "Fox", "in a den at the edge of the woods"),
    ("bear cub", "Bear", "in a warm cave on the side of a hill"),
    ("squirrel", "Squirrel", "in a round nest high up in a maple tree"),
    ("duckling", "Duck", "in a nest of reeds beside a quiet pond"),
    ("mouse", "Mouse", "in a tiny hole behind the old mill"),
    ("hedgehog", "Hedgehog", "under a heap of soft leaves at the bottom of a garden"),
    ("owl", "Owl", "in a hollow high up in a pine tree"),
    ("frog", "Frog", "on a lily pad in the middle of a green pond"),
    ("turtle", "Turtle", "beside a slow, muddy river"),
    ("piglet", "Pig", "on a busy farm at the bottom of the hill"),
    ("lamb", "Sheep", "in a green field full of daisies"),
    ("penguin", "Penguin", "on a cold, icy shore"),
    ("elephant", "Elephant", "on a wide, sunny plain"),
    ("monkey", "Monkey", "in a tall tree in the jungle"),
    ("raccoon", "Raccoon", "in a hollow log near the campground"),
    ("otter", "Otter", "in a burrow by a rushing stream"),
    ("kitten", "Cat", "in a little blue house on Maple Street"),
    ("puppy", "Dog", "in a kennel behind a white farmhouse"),
    ("chick", "Hen", "in a red barn on a sunny farm"),
    ("badger", "Badger", "in a deep burrow under the hill"),
    ("panda", "Panda", "in a forest of tall green bamboo"),
    ("beaver", "Beaver", "in a lodge of sticks in the middle of a pond"),
    ("goat", "Goat", "on a rocky hill above a farm"),
    ("lion cub", "Lion", "in the tall yellow grass of the savanna"),
    ("giraffe", "Giraffe", "on a wide plain dotted with thorny trees"),
    ("fawn", "Deer", "in a quiet glade deep in the forest"),
    ("robin", "Robin", "in a nest in an apple tree"),
    ("mole", "Mole", "in a tunnel under the vegetable garden"),
    ("seal pup", "Seal", "on a rocky beach by the sea"),
    ("hippo", "Hippo", "in a wide, muddy river"),
    ("tiger cub", "Tiger", "in a thick green jungle"),
    ("koala", "Koala", "in a tall gum tree"),
    ("zebra", "Zebra", "on a grassy plain near a water hole"),
)
_HUMAN_HOMES = (
    "in a little yellow house at the end of a quiet street",
    "in a small town by the sea",
    "on a farm with cows, hens and a very noisy goat",
    "in a tall building in the middle of a busy city",
    "in a cottage near the woods",
    "in a village beside a wide river",
    "in a blue house with a red door",
    "in a little flat above a bakery",
    "in a white house at the top of a hill",
    "in a house with a big garden full of flowers",
    "in a small house next to a park",
    "in a busy neighborhood full of children",
)
_HAIR = ("curly red", "long black", "short brown", "straight golden", "wild, fuzzy", "shiny dark", "bouncy orange",
         "soft blond", "messy brown")
_HUMAN_LOOKS = (
    "a big smile", "freckles on {his} nose", "round glasses", "a laugh like a tinkling bell", "rosy cheeks",
    "a gap where {his} front tooth used to be", "bright green eyes", "a dimple in each cheek", "muddy knees",
    "a red cap that {he} wore every day", "a hundred questions every morning",
)
_ANIMAL_LOOKS = (
    "soft gray fur and a very fluffy tail", "bright, shiny eyes and a twitchy nose", "a white spot on {his} chest",
    "the longest whiskers in the whole family", "tiny ears that wiggled when {he} laughed", "big, curious eyes",
    "a coat as soft as a cloud", "a little stripe down {his} back", "feet that were always a bit muddy",
)
_CHARACTER_ADJECTIVES = (
    "curious", "cheerful", "kind", "shy", "brave", "clever", "gentle", "playful", "happy", "friendly", "quiet",
    "silly", "lively", "thoughtful", "busy", "careful", "helpful", "sleepy", "bouncy", "polite", "funny", "small",
    "energetic", "eager", "honest", "little",
)
_COLORS = (
    "red", "blue", "green", "yellow", "orange", "purple", "pink", "golden", "silver", "brown", "white", "black",
    "gray", "bright red", "sky blue", "lime green", "dark blue", "rainbow", "striped", "spotted",
)
_OBJECT_ADJECTIVES = (
    "little", "tiny", "big", "shiny", "soft", "fuzzy", "old", "new", "sparkly", "small", "smooth",
    "round", "special", "lucky", "bright",
)
_TOYS = (
    "ball", "kite", "teddy bear", "toy car", "toy boat", "doll", "robot", "yo-yo", "spinning top", "whistle",
    "marble", "hat", "scarf", "mitten", "book", "toy train", "drum", "rubber duck", "stuffed bunny",
    "stuffed dragon", "jump rope", "ribbon", "hair clip", "bracelet", "necklace", "toy dinosaur", "bell", "flute",
    "harmonica", "magnifying glass", "compass", "sticker book", "lunch box", "backpack", "umbrella", "toy airplane",
    "puppet", "wooden horse", "music box", "pinwheel", "sailboat", "balloon", "bucket", "shovel", "crown",
    "flashlight", "paintbrush", "pencil case", "toy rocket", "bouncy ball", "kazoo", "toy tractor", "glove puppet",
    "snow globe", "wind-up mouse", "toy fire truck", "wooden sword", "hula hoop", "toy telescope", "rag doll",
    "water bottle", "feather pen", "toy xylophone", "pocket mirror", "knitted hat", "toy penguin", "butterfly net",
)
_OUTDOOR_SPOTS = (
    "under a bush", "behind a big rock", "in the tall grass", "under a pile of leaves", "next to an old bench",
    "inside a hollow log", "by the edge of the water", "under the slide", "beneath a picnic table",
    "near a patch of flowers", "behind a tree", "in a muddy puddle", "under a wooden bridge", "beside the fence",
    "in a thorny hedge", "up in the branches of a tree", "under a flat stone", "in a clump of clover",
    "behind a haystack", "between two mossy roots", "inside an empty flowerpot", "under a wheelbarrow",
    "in a bed of tulips", "next to a sleeping cow", "at the bottom of a sandy hole", "on top of a tree stump",
)
_INDOOR_SPOTS = (
    "under the bed", "behind the sofa", "in the toy box", "under a cushion", "in the laundry basket",
    "inside a boot", "behind the curtains", "under the kitchen table", "in the bathtub", "on the bookshelf",
    "under a blanket", "in the closet", "behind the door", "in the dog's basket", "inside a big cardboard box",
    "on top of the fridge", "in the coat pocket", "under the stairs",
)
_JUNK = (
    "a muddy old sock", "a sleepy snail", "a pile of acorns", "an empty snail shell", "a lost button",
    "a spider spinning its web", "a shiny penny", "a few crumbs", "a pinecone", "a lonely glove", "a dusty spoon",
    "a crumpled drawing", "a beetle", "an old key", "a rubber band", "a feather", "a round pebble", "a bottle cap",
    "some dust", "a paper boat", "a sleeping ladybug", "a broken crayon", "a curly worm", "a lost marble",
    "an old boot", "a soggy leaf", "a bird's feather", "a grumpy toad", "a tangle of string", "an acorn cap",
)
# (noun, "at" phrase, "to" phrase). All outdoor, so the outdoor spots fit.
_PLACES = (
    ("park", "at the park", "to the park"),
    ("beach", "on the beach", "to the beach"),
    ("garden", "in the garden", "to the garden"),
    ("meadow", "in the meadow", "to the meadow"),
    ("forest", "in the forest", "to the forest"),
    ("pond", "by the pond", "to the pond"),
    ("hill", "on the hill", "to the top of the hill"),
    ("playground", "at the playground", "to the playground"),
    ("farm", "on the farm", "to the farm"),
    ("river", "by the river", "down to the river"),
    ("field", "in the big field", "to the big field"),
    ("orchard", "in the apple orchard", "to the apple orchard"),
    ("lake", "by the lake", "to the lake"),
    ("backyard", "in the backyard", "out to the backyard"),
    ("woods", "in the woods", "into the woods"),
    ("square", "in the town square", "to the town square"),
    ("campsite", "at the campsite", "to the campsite"),
    ("valley", "in the valley", "down to the valley"),
    ("harbor", "at the harbor", "down to the harbor"),
    ("island", "on the little island", "out to the little island"),
    ("village green", "on the village green", "to the village green"),
    ("sunflower field", "in the sunflower field", "to the sunflower field"),
    ("riverbank", "on the riverbank", "down to the riverbank"),
    ("cliff top", "on the cliff top", "up to the cliff top"),
)
_HELPER_CREATURES = (
    "a wise old owl", "a friendly duck", "a busy squirrel", "a sleepy cat", "a little robin", "a gray goose",
    "a kind old dog", "a chatty parrot", "a tired turtle", "a nosy crow", "a tiny mouse", "a fluffy sheep",
    "a jolly frog", "a slow snail", "a curious goat", "a sleepy bat", "a hungry pigeon", "a polite hedgehog",
    "a bossy hen", "a gentle cow", "a shy rabbit",
)
_FEELINGS_SAD = ("sad", "upset", "worried", "gloomy", "unhappy", "miserable", "heartbroken", "lonely", "nervous",
                 "confused", "disappointed", "grumpy")
_FEELINGS_HAPPY = ("happy", "glad", "joyful", "proud", "delighted", "cheerful", "thrilled", "grateful", "calm",
                   "peaceful", "cozy", "excited")
_TIMES = (
    "One day,", "One morning,", "One sunny morning,", "One afternoon,", "One bright afternoon,",
    "Early one morning,", "One warm day,", "Then one day,", "One fine morning,", "On Saturday morning,",
    "One lovely spring day,", "After breakfast one day,", "One quiet Sunday,", "One summer afternoon,",
    "One cloudy morning,", "On the first day of the holidays,", "Last Tuesday,", "One chilly autumn morning,",
    "Just after lunch one day,",
)
_ACTIVITIES = (  # (base, past, -ing)
    ("play tag", "played tag", "playing tag"),
    ("play hide and seek", "played hide and seek", "playing hide and seek"),
    ("build a fort", "built a fort", "building a fort"),
    ("draw pictures", "drew pictures", "drawing pictures"),
    ("sing songs", "sang songs", "singing songs"),
    ("dance", "danced", "dancing"),
    ("race to the big tree", "raced to the big tree", "racing to the big tree"),
    ("jump in puddles", "jumped in puddles", "jumping in puddles"),
    ("collect shiny stones", "collected shiny stones", "collecting shiny stones"),
    ("look for bugs", "looked for bugs", "looking for bugs"),
    ("make mud pies", "made mud pies", "making mud pies"),
    ("pick flowers", "picked flowers", "picking flowers"),
    ("roll down the hill", "rolled down the hill", "rolling down the hill"),
    ("tell jokes", "told jokes", "telling jokes"),
    ("play pretend", "played pretend", "playing pretend"),
    ("swing on the swings", "swung on the swings", "swinging on the swings"),
    ("climb trees", "climbed trees", "climbing trees"),
    ("watch the clouds", "watched the clouds", "watching the clouds"),
    ("read stories", "read stories", "reading stories"),
    ("skip stones on the water", "skipped stones on the water", "skipping stones on the water"),
    ("chase butterflies", "chased butterflies", "chasing butterflies"),
    ("build sandcastles", "built sandcastles", "building sandcastles"),
    ("play catch", "played catch", "playing catch"),
    ("count the stars", "counted the stars", "counting the stars"),
    ("blow bubbles", "blew bubbles", "blowing bubbles"),
    ("paint rainbows", "painted rainbows", "painting rainbows"),
    ("play the drums", "played the drums", "playing the drums"),
    ("feed the ducks", "fed the ducks", "feeding the ducks"),
    ("fly paper planes", "flew paper planes", "flying paper planes"),
    ("make up silly songs", "made up silly songs", "making up silly songs"),
    ("hunt for treasure", "hunted for treasure", "hunting for treasure"),
    ("do somersaults", "did somersaults", "doing somersaults"),
    ("bake muffins", "baked muffins", "baking muffins"),
    ("splash in the stream", "splashed in the stream", "splashing in the stream"),
    ("spin in circles", "spun in circles", "spinning in circles"),
    ("balance on logs", "balanced on logs", "balancing on logs"),
)
# (phrase, short noun, how to share it)
_TREATS = (
    ("a big chocolate cookie", "cookie", "broke the cookie into two pieces"),
    ("a warm blueberry muffin", "muffin", "broke the muffin in half"),
    ("a jam sandwich", "sandwich", "tore the sandwich into two halves"),
    ("a slice of birthday cake", "cake", "cut the cake into two pieces with a spoon"),
    ("a honey bun", "bun", "pulled the bun apart"),
    ("a bag of cherries", "cherries", "poured out half of the cherries for {friend}"),
    ("a bowl of strawberries", "strawberries", "gave half of the strawberries to {friend}"),
    ("a box of crackers", "crackers", "counted out half of the crackers"),
    ("a handful of nuts", "nuts", "gave half of the nuts to {friend}"),
    ("a bunch of grapes", "grapes", "picked half of the grapes off the stem"),
    ("a juicy orange", "orange", "peeled the orange and split it into pieces"),
    ("a big red apple", "apple", "asked for help to cut the apple in two"),
    ("a bag of popcorn", "popcorn", "poured half of the popcorn into a cup"),
    ("a cinnamon roll", "roll", "tore the roll into two pieces"),
    ("a banana", "banana", "broke the banana in half"),
    ("a bag of carrot sticks", "carrot sticks", "shared the carrot sticks one by one"),
    ("an oatmeal bar", "bar", "snapped the bar in two"),
    ("a pear tart", "tart", "cut the tart into two pieces"),
    ("a bag of sweet plums", "plums", "gave half of the plums to {friend}"),
    ("a gingerbread man", "gingerbread man", "broke the gingerbread man in half, right down the middle"),
    ("a peanut butter sandwich", "sandwich", "tore the sandwich into two halves"),
    ("a big slice of watermelon", "watermelon", "cut the watermelon into two smaller slices"),
    ("a box of raisins", "raisins", "poured out half of the raisins for {friend}"),
    ("a warm pancake", "pancake", "folded the pancake and tore it in two"),
)

# Speech verbs by final punctuation and mood. A verb with a space ("said softly") always follows the speaker.
_SPEECH_VERBS = {
    ".": {
        "neutral": ("said", "said", "replied", "answered", "explained"),
        "happy": ("said happily", "laughed", "giggled", "said with a smile", "beamed", "grinned"),
        "sad": ("sighed", "sniffled", "said sadly", "said quietly", "mumbled"),
        "scared": ("whispered", "said in a small voice", "whimpered", "said with a shiver"),
        "kind": ("said gently", "said kindly", "said softly", "replied warmly", "said"),
        "excited": ("said excitedly", "squealed", "said, bouncing up and down", "said quickly"),
        "cross": ("grumbled", "huffed", "snapped", "said crossly", "muttered"),
    },
    "?": {
        "neutral": ("asked", "asked", "asked", "wanted to know"),
        "happy": ("asked happily", "asked with a grin", "asked"),
        "sad": ("asked sadly", "asked in a quiet voice", "sniffled"),
        "scared": ("whispered", "asked in a shaky voice", "asked nervously"),
        "kind": ("asked gently", "asked kindly", "asked softly"),
        "excited": ("asked excitedly", "asked eagerly", "asked"),
        "cross": ("asked crossly", "demanded", "grumbled"),
    },
    "!": {
        "neutral": ("shouted", "called", "exclaimed", "cried"),
        "happy": ("cheered", "shouted happily", "laughed", "cried with joy"),
        "sad": ("cried", "wailed", "sobbed"),
        "scared": ("gasped", "cried", "squeaked", "yelled"),
        "kind": ("called", "said", "called out"),
        "excited": ("shouted", "squealed", "yelled", "cried"),
        "cross": ("shouted", "snapped", "yelled"),
    },
}


def _article(phrase: str) -> str:
    """'a' or 'an' for `phrase`, by the sound of its first word (an umbrella, a unicorn, an hour)."""
    word = phrase.split(" ", 1)[0].lower()
    if word.startswith(("uni", "use", "usu", "eu", "one")):
        return "a"
    if word.startswith(("hour", "honest", "honor")):
        return "an"
    return "an" if word[0] in "aeiou" else "a"


_SENTENCE_END = re.compile(r"[.!?] ")


def _split_first_sentence(line: str) -> tuple[str, str]:
    """'Oh no! My kite is stuck.' -> ('Oh no!', 'My kite is stuck.'); a one-sentence line -> (line, '')."""
    match = _SENTENCE_END.search(line)
    return (line[: match.start() + 1], line[match.end() :]) if match else (line, "")


def _a(phrase: str) -> str:
    return f"{_article(phrase)} {phrase}"


@dataclass(frozen=True)
class _Character:
    name: str
    female: bool
    kind: str  # "girl", "boy", or an animal: "fox", "bear cub"
    is_animal: bool
    family: str = ""  # animals: the word their grown-ups are named after ("Mama Bear")
    home: str = ""

    def slots(self, prefix: str) -> dict[str, str]:
        he, him, his = ("she", "her", "her") if self.female else ("he", "him", "his")
        return {
            prefix + "he": he, prefix + "He": he.capitalize(), prefix + "him": him, prefix + "his": his,
            prefix + "His": his.capitalize(), prefix + "self": him + "self", prefix + "kind": self.kind,
        }


def _make_hero(rng: random.Random, animal: bool) -> _Character:
    female = rng.random() < 0.5
    if animal:
        kind, family, home = rng.choice(_ANIMALS)
        return _Character(rng.choice(_ANIMAL_NAMES), female, kind, True, family, home)
    name = rng.choice(_GIRL_NAMES if female else _BOY_NAMES)
    return _Character(name, female, "girl" if female else "boy", False, "", rng.choice(_HUMAN_HOMES))


def _make_friend(rng: random.Random, hero: _Character) -> _Character:
    while True:
        friend = _make_hero(rng, hero.is_animal)
        if friend.name != hero.name and (not hero.is_animal or friend.kind != hero.kind):
            return friend


def _make_grown_up(rng: random.Random, hero: _Character) -> _Character:
    female = rng.random() < 0.55
    if hero.is_animal:
        title = rng.choice(("Mama", "Grandma")) if female else rng.choice(("Papa", "Grandpa"))
        return _Character(f"{title} {hero.family}", female, hero.kind, True)
    name = rng.choice(("Mom", "Mom", "Grandma", "Nana")) if female else rng.choice(("Dad", "Dad", "Grandpa"))
    return _Character(name, female, "grown-up", False)


_PRONOUN_SLOT = {"hero": "he", "friend": "fhe", "grown_up": "phe"}


class _Writer:
    """Accumulates one story: picks templates with one rng, fills the story's slots, renders dialogue."""

    def __init__(self, rng: random.Random, hero: _Character, friend: _Character, grown_up: _Character):
        self.rng = rng
        self.cast = {"hero": hero, "friend": friend, "grown_up": grown_up}
        self.slots = {"name": hero.name, "friend": friend.name, "parent": grown_up.name}
        self.slots.update(hero.slots(""))
        self.slots.update(friend.slots("f"))
        self.slots.update(grown_up.slots("p"))
        self.slots["friend_intro"] = (
            f"{friend.name} the {friend.kind}" if friend.is_animal else f"{friend.name} from next door"
        )
        self.paragraphs: list[list[str]] = [[]]
        self.pace = self.pick((0.3, 0.6, 0.9))  # brisk, medium or leisurely telling

    def pick(self, options):
        # One C call per choice; rng.choice costs ~3x more and this runs ~40 times a story.
        return options[int(self.rng.random() * len(options))]

    def fill(self, template: str) -> str:
        return template.format_map(self.slots)

    def add(self, *templates: str) -> None:
        """Append one of `templates`, filled in, to the current paragraph.

        A sentence that opens with the hero's pronoun gets the hero's name instead when the sentence before
        it was about someone else ("Mom smiled. She ..." would be about Mom).
        """
        template = self.pick(templates)
        sentence = self.fill(template)
        he = self.slots["He"]
        if template.startswith("{He} "):
            previous = self.paragraphs[-1][-1] if self.paragraphs[-1] else ""
            if self.slots["name"] not in previous and not previous.startswith(he + " "):
                sentence = self.slots["name"] + sentence[len(he):]
        self.paragraphs[-1].append(sentence)

    def chance(self, p: float) -> bool:
        """True with probability `p` scaled by the story's pace: for optional sentences, so lengths vary."""
        return self.rng.random() < p * self.pace

    def maybe(self, p: float, *templates: str) -> None:
        if self.chance(p):
            self.add(*templates)

    def say(self, role: str, mood: str, *lines: str) -> None:
        """Append one of `lines` (each ending in . ? or !) spoken by `role`, with a speech verb for `mood`.

        The tag goes after the quote ("Hello," said Lily / Lily said), before it (Lily said, "Hello."), or
        between the line's first sentence and the rest. A pronoun tag (she said) is used only when the previous
        sentence named the speaker and no one else who shares the pronoun.
        """
        speaker = self.cast[role]
        line = self.fill(self.pick(lines))
        who = speaker.name
        if self._pronoun_is_clear(speaker) and self.rng.random() < 0.5:
            who = self.slots[_PRONOUN_SLOT[role]]
        form = self.rng.random()
        first, rest = _split_first_sentence(line)
        quote, tail = (first, rest) if rest and form >= 0.6 else (line, "")
        verb = self._speech_verb(quote[-1], mood)
        if form < 0.2 and who == speaker.name and verb in ("said", "asked", "whispered"):
            sentence = f'{who} {verb}, "{line}"'
        else:
            # "said softly" and pronouns go after the subject: "Lily said softly", never "said she".
            name_first = " " in verb or who != speaker.name or self.rng.random() < 0.5
            tag = f"{who} {verb}" if name_first else f"{verb} {who}"
            quoted = quote[:-1] + ("," if quote[-1] == "." else quote[-1])
            sentence = f'"{quoted}" {tag}.' + (f' "{tail}"' if tail else "")
        self.paragraphs[-1].append(sentence)

    def _speech_verb(self, mark: str, mood: str) -> str:
        verb = self.pick(_SPEECH_VERBS[mark][mood])
        previous = self.paragraphs[-1][-1] if self.paragraphs[-1] else ""
        if verb.startswith(("replied", "answered")) and '"' not in previous:
            return "said"  # nobody spoke, so there is nothing to reply to
        return verb

    def _pronoun_is_clear(self, speaker: _Character) -> bool:
        if not self.paragraphs[-1]:
            return False
        previous = self.paragraphs[-1][-1]
        if speaker.name not in previous:
            return False
        return not any(
            other.name in previous and other.female == speaker.female and other is not speaker
            for other in self.cast.values()
        )

    def paragraph(self) -> None:
        if self.paragraphs[-1]:
            self.paragraphs.append([])

    def text(self) -> str:
        return "\n".join(" ".join(p) for p in self.paragraphs if p)


# --------------------------------------------------------------------------------------------------------------
# Story parts shared by the plots.
# --------------------------------------------------------------------------------------------------------------


def _introduce(w: _Writer, liking: str | None = None) -> None:
    """The beginning: the hero by name (always 'named X' or 'called X'), where they live, what they love."""
    hero = w.cast["hero"]
    desc = f"{w.pick(_CHARACTER_ADJECTIVES)} {'little ' if w.rng.random() < 0.4 else ''}{hero.kind}"
    desc = desc.replace("little little", "little").replace("small little", "small")
    w.slots["a_desc"] = _a(desc)
    w.slots["home"] = hero.home
    w.add(
        "Once upon a time, there was {a_desc} named {name}.",
        "Once upon a time, there was {a_desc} called {name}.",
        "Once upon a time, {a_desc} named {name} lived {home}.",
        "Long ago, {a_desc} named {name} lived {home}.",
        "There once was {a_desc} named {name}.",
        "In a faraway land, there lived {a_desc} called {name}.",
        "Not so long ago, there was {a_desc} named {name}.",
        "Once there was {a_desc} called {name}.",
        "There was once {a_desc} named {name}, who lived {home}.",
        "Once upon a time, in a land of green hills and blue rivers, there lived {a_desc} named {name}.",
        "Far away, beyond the tall mountains, lived {a_desc} called {name}.",
        "Have you ever met {a_desc} named {name}?",
        "This is a story about {a_desc} named {name}.",
    )
    if hero.home not in w.paragraphs[-1][-1]:
        w.maybe(0.2, "{He} lived {home}.", "{He} lived {home} with {his} family.", "{His} home was {home}.")
    if w.chance(0.3):
        if hero.is_animal:
            w.slots["looks"] = w.fill(w.pick(_ANIMAL_LOOKS))
        else:
            w.slots["looks"] = f"{w.pick(_HAIR)} hair and {w.fill(w.pick(_HUMAN_LOOKS))}"
        w.add("{He} had {looks}.")
    if liking:
        w.add(liking)
    elif w.chance(0.6):
        act = w.pick(_ACTIVITIES)
        w.slots["act_ing"], w.slots["act"] = act[2], act[0]
        w.add(
            "{He} loved {act_ing} more than anything.",
            "Every day, {he} liked to {act}.",
            "{His} favorite thing to do was {act_ing}.",
            "{He} was happiest when {he} was {act_ing}.",
        )


def _object(w: _Writer) -> None:
    """Sets the slots for the hero's treasured object: obj ('kite'), obj_desc ('green kite'), a_obj, color."""
    noun, color = w.pick(_TOYS), w.pick(_COLORS)
    plain = " " in color or w.rng.random() < 0.5  # no "bright bright red"
    desc = f"{color} {noun}" if plain else f"{w.pick(_OBJECT_ADJECTIVES)} {color} {noun}"
    w.slots.update(obj=noun, obj_desc=desc, a_obj=_a(desc), color=color.split()[-1])
    w.slots["a_color_obj"] = _a(f"{w.slots['color']} {noun}")


def _place(w: _Writer) -> None:
    noun, at, to = w.pick(_PLACES)
    w.slots.update(place=noun, at_place=at, to_place=to)


def _time(w: _Writer) -> None:
    w.slots["Time"] = w.pick(_TIMES)


def _feel(w: _Writer, happy: bool) -> None:
    w.slots["feeling"] = w.pick(_FEELINGS_HAPPY if happy else _FEELINGS_SAD)


# --------------------------------------------------------------------------------------------------------------
# Plots. Each one writes a whole story with `w`.
# --------------------------------------------------------------------------------------------------------------


def _plot_lost_object(w: _Writer) -> None:
    _object(w)
    _place(w)
    _time(w)
    _introduce(w, w.pick((
        "{He} had {a_obj} that {he} loved more than anything.",
        "{His} favorite thing in the whole world was {a_obj}.",
        "{His} grandma had given {him} {a_obj}, and {he} took it everywhere.",
        "{He} had {a_obj}, and {he} never went anywhere without it.",
    )))
    w.paragraph()
    w.add(
        "{Time} {name} took {his} {obj} {to_place} to play.",
        "{Time} {name} went {to_place} with {his} {obj}.",
        "{Time} {name} and {his} {obj} went {to_place} to look for adventures.",
    )
    w.add(
        "{He} played until the sun began to sink. Then {he} looked down. The {obj} was gone!",
        "After a while, {he} stopped to rest. {His} {obj} was not there anymore.",
        "{He} ran and jumped. But when {he} reached for {his} {obj}, it was not there.",
        "Suddenly, {name} stopped. Where was {his} {obj}?",
    )
    _feel(w, happy=False)
    w.maybe(0.6, "{Name} felt very {feeling}.", "{His} eyes filled with tears.", "{His} lip began to shake.")
    if w.chance(0.6):
        w.say("hero", "sad", "Oh no! Where is my {obj}?", "My {obj} is gone!", "I have lost my {obj}!",
              "What will I do without my {obj}?")
    w.paragraph()
    w.add("Just then, {his} friend {friend} came by.", "Just then, {friend_intro} walked over.",
          "{friend}, {his} best friend, heard {him} and came running.")
    if w.chance(0.7):
        w.say("friend", "kind", "What is wrong, {name}?", "Why are you sad, {name}?", "Are you all right, {name}?")
    if w.chance(0.5):
        w.say("hero", "sad", "I lost my {obj_desc}. I looked everywhere.", "My {obj} is lost, and I cannot find it.",
              "I had my {obj} a minute ago, and now it is gone.")
    w.say("friend", "kind", "Don't worry. I will help you look.",
          "Let's look together. Two pairs of eyes are better than one.",
          "We will find it. I am very good at finding things.")
    spots = w.rng.sample(_OUTDOOR_SPOTS, 4)
    for i, spot in enumerate(spots[: w.rng.randint(1, 2)]):
        w.slots["spot"], w.slots["junk"] = spot, w.pick(_JUNK)
        if i == 0:
            w.add("First, they looked {spot}, but they only found {junk}.",
                  "They looked {spot}. There was only {junk}.",
                  "First they searched {spot}. No {obj}, just {junk}.")
        elif w.rng.random() < 0.4:
            w.slots["creature"] = w.pick(_HELPER_CREATURES)
            w.add("They asked {creature} if it had seen {a_color_obj}, but it had not.",
                  "On the way they met {creature}. It had not seen the {obj} either.")
        else:
            w.add("Next, they checked {spot}. Still nothing.",
                  "Then {friend} peeked {spot}, but the {obj} was not there either.",
                  "They searched {spot}, but they only found {junk}.")
    w.slots["spot"] = spots[-1]
    w.maybe(0.3, "{Name} began to think the {obj} was lost forever.", "The sky was getting dark.",
            "{Name} sat down with a sigh.")
    w.paragraph()
    if w.chance(0.5):
        w.add("At last, {friend} pointed {spot}. There was the {obj}!", "Then {friend} shouted and pointed {spot}.")
        w.say("hero", "happy", "My {obj}! You found it!", "There it is!")
    else:
        w.add("Then {name} saw something {color} {spot}. It was {his} {obj}!",
              "Then the wind moved the grass, and {name} saw a flash of {color} {spot}. It was the {obj}!")
        w.say("hero", "happy", "I found it! I found my {obj}!", "There you are!", "Hooray!")
    w.maybe(0.4, "{Name} hugged the {obj} tight.", "{Name} held the {obj} close to {his} heart.",
            "{Name} picked it up and brushed off the dirt.")
    w.say("hero", "happy", "Thank you, {friend}. You are the best friend ever.", "Thank you for helping me, {friend}.",
          "I could not have found it without you, {friend}.")
    w.maybe(0.3, "{friend} smiled.", "{friend} smiled a big smile.", "{friend} gave {him} a hug.")
    w.add(
        "From that day on, {name} always kept {his} {obj} in a safe place.",
        "{Name} learned that good friends help you find what you have lost.",
        "That night, {name} went to sleep with the {obj} right next to {his} pillow.",
        "After that, {name} was always careful with {his} {obj}, and {he} never lost it again.",
    )


def _plot_new_friend(w: _Writer) -> None:
    _place(w)
    w.slots["a_fdesc"] = _a(f"{w.pick(('shy', 'little', 'quiet', 'small', 'new'))} {w.cast['friend'].kind}")
    _time(w)
    _introduce(w)
    w.add("But {name} did not have many friends.", "But {he} often felt a little lonely.",
          "{He} was a bit shy, and {he} did not know how to make friends.")
    w.paragraph()
    w.add("{Time} {name} went {to_place} with {parent}.", "{Time} {parent} took {name} {to_place}.",
          "{Time} {name} and {parent} went for a walk {to_place}.")
    w.add("There {name} saw {a_fdesc} sitting all alone.", "Under a tree, {name} saw {a_fdesc} who looked very sad.",
          "Near a big rock, {a_fdesc} was playing by {fself}.")
    w.add("{Name} wanted to say hello, but {his} tummy felt full of butterflies.",
          "{Name} wanted to go over, but {he} felt too shy.", "{Name} stood still and did not know what to do.")
    if w.chance(0.6):
        w.say("hero", "scared", "What if {fhe} does not want to play with me?", "What if {fhe} laughs at me?",
              "I do not know what to say.")
    if w.chance(0.7):
        w.say("grown_up", "kind", "Just say hello. A smile is a good place to start.",
              "Everyone feels shy sometimes. Go on, you can do it.", "Why don't you ask {fhim} to play?")
    w.paragraph()
    w.add("{Name} took a deep breath and walked over.", "So {name} took one small step, then another.",
          "{Name} counted to three and went over.")
    w.say("hero", "neutral", "Hello. My name is {name}. Do you want to play?", "Hi! Do you want to play with me?",
          "Hello. Can I sit with you?")
    w.say("friend", "happy", "Yes, please! My name is {friend}.", "Of course! I am {friend}.",
          "I would love to! I am {friend}. I was hoping someone would ask!")
    first, second = w.rng.sample(_ACTIVITIES, 2)
    w.slots.update(act_past=first[1], act_past2=second[1])
    w.add("They {act_past}.", "Together they {act_past}.", "First, they {act_past}.")
    w.maybe(0.7, "Then they {act_past2}.", "Next, they {act_past2}.",
            "After that, they {act_past2} until they were out of breath.")
    w.maybe(0.3, "{friend} showed {name} how to make a daisy chain.",
            "{friend} told the funniest joke {name} had ever heard.",
            "They found a ladybug and named it Spot.", "They shared a bottle of cold water.")
    w.paragraph()
    w.add("When it was time to go home, {name} did not want to leave.", "Soon the sun began to set.",
          "All too soon, it was time to say goodbye.")
    w.say("friend", "happy", "Will you come back tomorrow?", "Can we play again tomorrow?")
    w.say("hero", "happy", "Yes! You are my new best friend!", "Of course! I will be here.", "Yes, I promise!")
    _feel(w, happy=True)
    w.add(
        "{Name} walked home feeling {feeling}. Saying hello had been the bravest and best thing {he} did all day.",
        "From that day on, {name} and {friend} were best friends.",
        "{Name} learned that a friend can be waiting just one hello away.",
        "That night, {name} smiled in {his} bed. {He} was not lonely anymore.",
    )


_FEARS = (  # (thing, what facing it looks like, what it turned out to be)
    ("the dark", "turned off the light", "the dark was just the same room, only sleepier"),
    ("thunder", "listened to the storm", "thunder was only the sky making a big noise"),
    ("the tall slide", "climbed the ladder", "the slide was fast and fun"),
    ("the deep water", "stepped into the water", "the water was cool and friendly"),
    ("the big dog next door", "held out {his} hand", "the big dog only wanted to be friends"),
    ("the first day of school", "walked through the door", "school was full of new friends"),
    ("the noisy vacuum cleaner", "watched it from the doorway", "the vacuum was just hungry for dust"),
    ("the dentist", "sat in the big chair", "the dentist was gentle and kind"),
    ("the old bridge", "took the first step", "the bridge was strong and steady"),
    ("the bees in the garden", "stood very still", "the bees were only busy with the flowers"),
    ("the swing that went up high", "sat on the swing", "swinging high felt like flying"),
    ("the shadow on the wall", "looked at it closely", "the shadow was only a coat on a hook"),
    ("the waves at the beach", "walked to the edge of the sea", "the waves only wanted to tickle {his} toes"),
    ("the big horse at the farm", "touched its soft nose", "the horse was calm and gentle"),
    ("getting a haircut", "sat very still in the barber's chair", "the scissors only tickled a little"),
    ("the rope bridge in the park", "held the rope and stepped onto the bridge", "the bridge only wobbled a tiny bit"),
    ("the loud fireworks", "covered {his} ears and looked up", "the fireworks looked like flowers made of light"),
    ("the cellar stairs", "switched on the light and went down", "the cellar was only full of jars of jam"),
)


def _plot_brave(w: _Writer) -> None:
    fear, face, truth = w.pick(_FEARS)
    w.slots.update(fear=fear, face=w.fill(face), truth=w.fill(truth))
    _time(w)
    _introduce(w)
    w.add("But there was one thing {name} was afraid of: {fear}.",
          "But {name} had a secret. {He} was scared of {fear}.",
          "There was only one problem. {Name} was very afraid of {fear}.")
    w.paragraph()
    w.add("{Time} {name} had to face {fear}.", "{Time} there was no way around it. {Name} had to face {fear}.")
    w.maybe(0.6, "{His} knees wobbled and {his} heart beat fast.", "{He} wanted to run and hide.",
            "{He} held on tight to {parent} and did not want to let go.")
    w.say("hero", "scared", "I am scared. I do not want to.", "What if something bad happens?",
          "Please, can we go home?")
    w.add("{parent} knelt down beside {him}.", "{parent} sat down next to {him}.", "{parent} squeezed {his} hand.")
    w.say("grown_up", "kind", "It is okay to be scared. Being brave means trying even when you are scared.",
          "I am right here with you. Let's try together, one little step at a time.",
          "I was scared of that too when I was little. Do you want to know a secret? It gets easier.")
    w.maybe(0.5, "Then {phe} gave {name} a warm hug.", "Then {phe} sang a silly song to make {name} laugh.")
    w.paragraph()
    w.maybe(0.6, "{Name} took a deep breath.", "{Name} closed {his} eyes and counted to ten.",
            "{Name} thought of the bravest animal {he} knew.")
    w.add("Slowly, {name} {face}.", "Very slowly, {name} {face}.", "Bit by bit, {name} {face}.")
    w.maybe(0.5, "Nothing bad happened.", "At first, {his} heart was still pounding.",
            "{He} held {his} breath and waited.")
    w.add("Then {he} saw that {truth}.", "Soon {he} found out that {truth}.")
    w.say("hero", "happy", "I did it! I was brave!", "That was not scary at all!", "Can I do it again?")
    _feel(w, happy=True)
    w.paragraph()
    w.maybe(0.6, "{parent} smiled and clapped.", "{parent} gave {him} a big hug.", "{parent} was very proud of {him}.")
    w.say("grown_up", "happy", "I knew you could do it.", "You were so brave today.", "I am so proud of you!")
    w.add(
        "{Name} felt {feeling} and tall. {He} was not afraid of {fear} anymore.",
        "From that day on, {name} knew that being brave is not the same as not being scared.",
        "That night, {name} told everyone about the day {he} faced {fear}.",
        "{Name} learned that things are often less scary once you try them.",
    )


def _plot_sharing(w: _Writer) -> None:
    treat, short, share = w.pick(_TREATS)
    w.slots.update(treat=treat, short=short, share=w.fill(share))
    _place(w)
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add("{Time} {parent} gave {name} {treat}.", "{Time} {name} found {treat} in {his} lunch bag.",
          "{Time} {name} got {treat} as a special treat.")
    w.say("hero", "excited", "Yum! This is all mine!", "I am going to eat it all by myself!",
          "This is the best day ever!")
    w.maybe(0.6, "{He} ran {to_place} to eat it.", "{He} sat down {at_place} to enjoy it.")
    w.add("Just then, {his} friend {friend} came along.", "Soon {friend_intro} came by.",
          "Then {his} friend {friend} walked up, looking hungry.")
    w.maybe(0.6, "{fHe} looked at the {short} with big eyes.", "{fHis} tummy rumbled loudly.",
            "{fHe} had forgotten {fhis} snack at home.")
    w.say("friend", "sad", "That looks so good. Can I have some?", "I am so hungry. Could I have a little bit?",
          "I did not bring anything to eat today.")
    w.paragraph()
    w.maybe(0.3, "{Name} held the {short} close.", "{Name} turned away.", "{Name} did not want to share.")
    w.say("hero", "cross", "No. It is mine.", "Go away. I want it all.", "Get your own.")
    w.add("{friend} looked down at {fhis} feet and walked away slowly.",
          "{friend}'s face fell, and {fhe} sat down alone.",
          "{friend} did not say anything. {fHe} just walked away.")
    w.add("{Name} took a bite. But somehow, it did not taste as good as before.",
          "{Name} looked at the {short}. Then {he} looked at {friend}, sitting all alone.",
          "{Name} felt a funny, heavy feeling in {his} tummy.")
    w.maybe(0.4, "{He} remembered what {parent} always said: a treat tastes best when it is shared.",
            "{He} thought about how {he} would feel if {he} were the hungry one.")
    w.paragraph()
    w.add("So {name} walked over to {friend}.", "{Name} stood up and went to find {friend}.")
    w.say("hero", "kind", "I am sorry, {friend}. Let's share.", "I was not being kind. Here, this half is for you.",
          "I am sorry I said no. Would you like some?")
    w.add("{Name} {share}.")
    w.say("friend", "happy", "Thank you, {name}!", "Really? Thank you!", "You are a good friend, {name}.")
    w.maybe(0.6, "They ate together and laughed.", "They sat side by side and ate every last crumb.",
            "The {short} tasted twice as good now.")
    _feel(w, happy=True)
    w.add(
        "{Name} felt warm and {feeling} inside. {He} learned that sharing makes everyone happier.",
        "From that day on, {name} always shared {his} snacks with {his} friends.",
        "Sharing made {name} feel {feeling}, much better than keeping it all to {self}.",
        "{Name} learned that a good thing is even better when you share it.",
    )


_TRIPS = (  # (destination, to phrase, how they travel, three things to see)
    ("the zoo", "to the zoo", ("a zebra eating grass", "a lion yawning in the sun", "penguins sliding into the water",
                              "a giraffe nibbling leaves from a tall tree", "monkeys swinging on ropes")),
    ("the beach", "to the beach", ("crabs running sideways", "a sandcastle with a flag on top", "boats far out at sea",
                                  "gulls flying over the waves", "shells in every color")),
    ("the farm", "to Uncle Joe's farm", ("cows chewing slowly", "piglets rolling in the mud", "a goat that ate a hat",
                                        "hens pecking at corn", "a tractor as big as a house")),
    ("the mountains", "to the mountains", ("snow on the tall peaks", "a waterfall splashing down the rocks",
                                          "an eagle circling in the sky", "pine trees as tall as towers",
                                           "a deer drinking from a stream")),
    ("the city", "to the big city", ("buildings that touched the clouds", "a bus painted like a rainbow",
                                    "a man juggling five balls", "a fountain that danced",
                                     "a bakery with a hundred cakes")),
    ("the museum", "to the museum", ("the bones of a giant dinosaur", "a real rocket", "paintings as big as walls",
                                    "a room full of butterflies", "a golden crown from long ago")),
    ("the lake", "to the lake", ("ducks paddling in a line", "a turtle sunning itself on a log",
                                 "fish jumping out of the water",
                                "a little wooden boat", "dragonflies with shiny wings")),
    ("the fair", "to the fair", ("a merry-go-round with painted horses", "a giant pumpkin", "a clown on stilts",
                                "fluffy pink cotton candy", "a prize-winning pig")),
    ("the aquarium", "to the aquarium", ("a shark gliding past", "a tank full of glowing jellyfish",
                                         "an octopus hiding in a pot",
                                        "a sea turtle waving a flipper", "a clownfish in a wavy plant")),
)
_VEHICLES = ("by car", "on a train", "on a big red bus", "by boat", "in Grandpa's old truck", "on their bikes")
_TRIP_PROBLEMS = (  # (problem, fix)
    ("{name} saw that {he} had forgotten {his} hat, and the sun was very hot",
     "{parent} bought {him} a funny hat with a duck on it"),
    ("{name}'s legs got very tired", "{parent} carried {him} on {phis} shoulders for a while"),
    ("{name} could not find {parent} in the crowd",
     "{he} remembered to stay still, and {parent} found {him} right away"),
    ("it started to rain", "they waited under a big tree and shared a sandwich until the rain stopped"),
    ("{name} dropped {his} ice cream on the ground", "{parent} shared {phis} ice cream with {him}"),
    ("{name} got a tummy ache from too many snacks",
     "{he} sat in the shade and drank some water until {he} felt better"),
    ("{name}'s shoe came off and fell in a puddle", "{parent} dried it with a towel and they laughed about it"),
)


def _plot_trip(w: _Writer) -> None:
    dest, to, sights = w.pick(_TRIPS)
    problem, fix = w.pick(_TRIP_PROBLEMS)
    w.slots.update(dest=dest, to_dest=to, vehicle=w.pick(_VEHICLES), problem=w.fill(problem), fix=w.fill(fix))
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add("{Time} {parent} had a surprise.", "{Name} woke up very early one morning. It was a special day.",
          "{Name} jumped out of bed one morning, because today was a special day.")
    w.say("grown_up", "happy", "Today we are going {to_dest}!", "Put on your shoes. We are going on a trip {to_dest}!")
    w.say("hero", "excited", "Hooray! Can {friend} come too?", "Really? I have always wanted to go!",
          "Yay! Let's go right now!")
    w.maybe(0.5, "{friend} came along too, and the two friends could not stop giggling.")
    w.add("They went {vehicle}.", "They traveled {vehicle}, and the trip felt very long.",
          "They went {vehicle}, singing songs all the way.")
    w.paragraph()
    seen = w.rng.sample(sights, 3)
    w.slots.update(s1=seen[0], s2=seen[1], s3=seen[2])
    w.add("At {dest}, {name} saw {s1}.", "First, {name} saw {s1}.")
    if w.chance(0.6):
        w.say("hero", "excited", "Look! Look at that!", "Wow! Did you see that?", "That is amazing!")
    w.add("Then {he} saw {s2} and {s3}.", "Next came {s2}, and then {s3}.",
          "{He} also saw {s2}. Best of all, {he} saw {s3}.")
    w.add("But then {problem}.")
    w.maybe(0.5, "{Name} felt like crying.", "{Name} frowned.", "For a moment, the day did not feel so fun.")
    w.add("Luckily, {fix}.", "Soon {fix}.", "Then {fix}.")
    w.paragraph()
    w.add("When the sun went down, they went home.", "At the end of the day, they were all very tired.",
          "On the way home, {name} could hardly keep {his} eyes open.")
    w.say("hero", "happy", "This was the best trip ever. Can we come back?", "Thank you for taking me.",
          "I want to tell everyone about it!")
    _feel(w, happy=True)
    w.add(
        "That night, {name} dreamed about {s1}.",
        "{Name} fell asleep feeling {feeling}, with a head full of wonderful pictures.",
        "The next day, {name} drew a picture of {s3} and hung it on the wall.",
        "{Name} knew {he} would remember that trip forever.",
    )


_WEATHER_PLANS = (  # (plan -ing phrase, base, weather event, what it did, how the weather ended)
    ("having a picnic", "have a picnic", "Dark clouds rolled in, and big drops of rain began to fall",
     "The rain splashed on the blanket and soaked the sandwiches",
     "Later, the clouds went away, and a rainbow stretched across the sky"),
    ("flying kites", "fly kites", "The wind blew so hard that the trees bent over",
     "It was much too windy to fly a kite without losing it", "By evening, the wind had calmed to a gentle breeze"),
    ("sledding down the big hill", "go sledding", "A blizzard howled outside, and the snow blew sideways",
     "It was far too stormy to go out on the hill",
     "By evening, the blizzard had stopped, and the hill was covered in fresh, soft snow"),
    ("going to the beach", "go to the beach", "A storm rumbled over the sea",
     "Thunder boomed, and the beach was closed", "By evening, the storm had rolled away over the hills"),
    ("playing soccer in the park", "play soccer", "A thick gray fog rolled in",
     "The fog was so thick that nobody could see the ball", "By evening, the fog had lifted"),
    ("riding bikes", "ride bikes", "It started to pour with rain",
     "The path turned into one long, muddy puddle",
     "When they looked outside again, the sun was peeking through the clouds"),
    ("going to the fair", "go to the fair", "Hailstones as big as peas bounced on the roof",
     "The fair was closed until the hail stopped",
     "In the afternoon, the hail turned to a soft drizzle, and then it stopped"),
)
_INDOOR_FUN = (
    ("build a fort with blankets and chairs", "built a fort with blankets and chairs"),
    ("bake cookies", "baked cookies shaped like stars"),
    ("paint pictures", "painted pictures of sunny days"),
    ("have a picnic on the living room floor", "had a picnic on the living room floor"),
    ("put on a puppet show", "put on a puppet show with old socks"),
    ("make paper boats", "made paper boats and sailed them in the bathtub"),
    ("play a board game", "played a board game, and {name} won twice"),
    ("make music with pots and spoons", "made music with pots and spoons"),
    ("read a big book of fairy tales", "read a big book of fairy tales under a blanket"),
)


def _plot_weather(w: _Writer) -> None:
    plan_ing, plan, event, damage, later = w.pick(_WEATHER_PLANS)
    fun, fun_past = w.pick(_INDOOR_FUN)
    w.slots.update(plan_ing=w.fill(plan_ing), plan=w.fill(plan), event=event, damage=w.fill(damage), fun=fun,
                   fun_past=w.fill(fun_past), later=later)
    _introduce(w)
    w.paragraph()
    w.add("One morning, {name} and {his} friend {friend} made a plan. They were going to {plan}.",
          "For a whole week, {name} and {his} friend {friend} had been looking forward to {plan_ing}.",
          "On Saturday, {name} woke up with a big idea: today {he} and {friend} would {plan}.")
    w.say("hero", "excited", "This is going to be so much fun!", "I can't wait!", "Let's go, {friend}!")
    w.add("But just as they got ready, something changed.", "But the weather had other ideas.",
          "But then the sky changed.",
          "But that morning, the sky looked strange.")
    w.add("{event}.")
    w.add("{damage}.")
    if w.chance(0.7):
        w.say("hero", "sad", "Now our day is ruined.", "It isn't fair!", "Why does this always happen?")
    w.maybe(0.5, "{Name} pressed {his} nose against the window and sighed.",
            "{Name} sat on the steps with {his} chin in {his} hands.")
    w.paragraph()
    w.add("{parent} came over and sat down beside {him}.", "Then {parent} had an idea.")
    w.say("grown_up", "kind", "We can't change the weather, but we can change our plan. Why don't we {fun}?",
          "A gray day can still be a good day. How about we {fun}?")
    if w.chance(0.5):
        w.say("hero", "neutral", "Can {friend} help too?", "Do you think it will be fun?", "Really? Right now?")
    w.add("So they {fun_past}.", "And that is just what they did. They {fun_past}.")
    w.maybe(0.4, "They laughed so much that {name} forgot all about the weather.",
            "{friend} had the silliest ideas, and {name} laughed until {his} tummy hurt.")
    w.paragraph()
    w.add("{later}.")
    w.say("friend", "happy", "Look! Maybe we can {plan} tomorrow.", "Today was fun after all!")
    _feel(w, happy=True)
    w.add(
        "{Name} learned that when plans go wrong, a new plan can be just as good.",
        "{Name} felt {feeling}. The day had not gone the way {he} planned, but it had been a good day anyway.",
        "And the next day, they did {plan} after all, under a bright blue sky.",
    )


_SKILLS = (  # (base, -ing, a try that fails, who can learn it: "human", "animal" or "any")
    ("ride a bike", "riding a bike", "{he} wobbled and fell over into the grass", "human"),
    ("swim", "swimming", "{he} splashed and sank and came up coughing", "any"),
    ("whistle", "whistling", "only a little puff of air came out", "any"),
    ("tie {his} shoes", "tying {his} shoes", "the laces ended up in a big knot", "human"),
    ("jump rope", "jumping rope", "the rope caught on {his} feet every time", "human"),
    ("climb the big tree", "climbing", "{he} slipped and slid back down", "any"),
    ("bake bread", "baking bread", "the bread came out flat as a plate", "human"),
    ("read a whole book", "reading", "the long words got all mixed up", "human"),
    ("play the drum", "playing the drum", "the beat came out all wrong", "human"),
    ("skate", "skating", "{his} feet went one way and {he} went the other", "human"),
    ("do a cartwheel", "doing cartwheels", "{he} landed in a heap", "human"),
    ("sing a high note", "singing", "{his} voice cracked like an egg", "any"),
    ("catch a ball", "catching", "the ball bounced off {his} nose", "any"),
    ("dive into the pond", "diving", "{he} landed with a big belly flop", "any"),
    ("build a tall tower of blocks", "building", "the tower fell down with a crash", "human"),
    ("hop on one foot", "hopping", "{he} tipped over after two hops", "any"),
    ("knit a scarf", "knitting", "the stitches came out all loose and loopy", "human"),
    ("fly a kite", "flying kites", "the kite crashed straight into the ground", "human"),
    ("juggle three balls", "juggling", "the balls bounced all over the floor", "human"),
    ("build a nest", "building nests", "the twigs kept falling apart", "animal"),
    ("count to one hundred", "counting", "{he} kept getting lost after fifty-nine", "any"),
)


def _plot_skill(w: _Writer) -> None:
    hero = w.cast["hero"]
    while True:
        skill, skill_ing, fail, who = w.pick(_SKILLS)
        if who == "any" or (who == "animal") == hero.is_animal:
            break
    w.slots.update(skill=w.fill(skill), skill_ing=w.fill(skill_ing), fail=w.fill(fail))
    _time(w)
    _introduce(w)
    w.add("More than anything, {name} wanted to learn to {skill}.", "{Name} had a big wish: {he} wanted to {skill}.",
          "All of {his} friends could {skill}, but {name} could not.")
    w.paragraph()
    w.add("{Time} {name} decided to try.", "{Time} {name} said that today was the day.")
    w.add("{He} tried, but {fail}.", "On the first try, {fail}.")
    w.maybe(0.6, "{He} tried again, and again {fail}.", "{He} tried once more. It did not work.",
            "The second try was even worse.")
    w.say("hero", "cross", "I will never be able to {skill}!", "This is too hard. I give up!", "I am no good at this!")
    w.maybe(0.5, "{Name} sat down and folded {his} arms.", "{Name} kicked a little stone and frowned.")
    w.paragraph()
    helper = w.pick(("friend", "grown_up"))
    if helper == "friend":
        w.add("Then {his} friend {friend} came over.", "Just then, {friend_intro} came by.")
    else:
        w.add("{parent} saw what was happening and came over.", "Then {parent} came outside.")
    w.say(helper, "kind",
          "Nobody can do it on the first try. I got it wrong a hundred times when I was learning.",
          "You are not bad at it. You are just still learning.",
          "Let's practice together a little every day.")
    if w.chance(0.6):
        w.say(helper, "neutral", "Try to go slowly. Keep your eyes on what you want to do.",
              "Here is a trick: take a deep breath first, then try.",
              "Don't think about getting it wrong. Think about the fun part.")
    w.slots["days"] = w.pick(("every day", "every morning", "each afternoon after lunch",
                              "every evening before dinner"))
    w.add("So {name} practiced {days}.", "After that, {name} kept trying {days}.")
    w.maybe(0.6, "Some days were good, and some days were not.", "Little by little, it got easier.",
            "Sometimes {he} wanted to quit, but {he} kept going.")
    w.paragraph()
    w.add("Then one day, it happened. {Name} could {skill}!",
          "One morning, {name} tried again, and this time it worked!",
          "Weeks later, {name} tried once more. This time, everything went right.")
    w.say("hero", "happy", "I did it! I really did it!", "Look at me! I can {skill}!", "Did you see that?")
    _feel(w, happy=True)
    w.maybe(0.6, "{Name} felt so {feeling}.", "Everyone cheered.", "{friend} jumped up and down and clapped.")
    w.add(
        "{Name} learned that practice is the secret to almost everything.",
        "From that day on, {name} loved {skill_ing}, and {he} helped other children who were still learning.",
        "{Name} learned that when something is hard, you just have to keep trying.",
    )


_HURT_ANIMALS = (  # (creature, its trouble, how they help, how it ends)
    ("a baby bird", "had fallen out of its nest", "gently put it back in its nest with the help of a ladder",
     "The mother bird sang a happy song"),
    ("a little kitten", "was stuck high up in a tree", "fetched a ladder and carefully brought it down",
     "The kitten purred and rubbed against {his} legs"),
    ("a lost puppy", "was shivering and had no collar", "gave it water and found the family who had lost it",
     "The puppy's owner hugged it and thanked {name} again and again"),
    ("a duckling", "could not find its mother", "followed the quacking sound to the pond",
     "The duckling swam straight to its mother"),
    ("a turtle", "was stuck on its back", "turned it over very gently",
     "The turtle slowly walked away into the grass"),
    ("a butterfly", "was caught in a spider web", "carefully freed its wings",
     "The butterfly flew up into the sunshine"),
    ("a hedgehog", "was tangled in an old net", "untangled the net strand by strand",
     "The hedgehog sniffed {his} hand and then trotted off"),
    ("a young owl", "had hurt its wing", "made it a soft bed in a box and brought it to the animal doctor",
     "After a week, the owl could fly again"),
    ("a little frog", "was trapped in an empty bucket", "tipped the bucket over beside the pond",
     "The frog hopped into the water with a happy plop"),
    ("a bee", "was too tired to fly", "put a drop of sugar water on a leaf for it",
     "The bee drank the water, buzzed, and flew away"),
)


def _plot_help_animal(w: _Writer) -> None:
    creature, trouble, help_, ending = w.pick(_HURT_ANIMALS)
    w.slots.update(creature=creature, trouble=trouble, help=help_, creature_end=w.fill(ending),
                   critter=creature.split()[-1])  # "a baby bird" -> "bird"
    _place(w)
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add("{Time} {name} was walking {at_place} when {he} heard a tiny sound.",
          "{Time} {name} and {his} friend {friend} were playing {at_place}.",
          "{Time} {name} went for a walk {at_place}.")
    w.add("There, {he} found {creature}. It {trouble}.", "Suddenly, {he} saw {creature} that {trouble}.")
    w.say("hero", "sad", "Oh, poor little thing!", "Oh no! It needs help!", "What should I do?")
    _feel(w, happy=False)
    w.maybe(0.6, "The {critter} looked scared and {feeling}.", "The {critter} was shaking.")
    w.paragraph()
    w.add("{Name} ran to get {parent}.", "{Name} called for {parent} right away.")
    w.say("grown_up", "kind", "We must be very gentle. Animals get scared easily.",
          "You did the right thing by asking for help.", "Let's help it together, slowly and quietly.")
    w.add("Together, they {help}.", "{Name} and {parent} {help}.")
    w.maybe(0.5, "It took a long time, but {name} was patient.",
            "{Name} spoke softly so the {critter} would not be afraid.")
    w.paragraph()
    w.add("{creature_end}.")
    w.say("hero", "happy", "Goodbye, little {critter}! Be safe!", "It's okay now! You are safe!", "We did it!")
    _feel(w, happy=True)
    w.add(
        "{Name} felt {feeling}. Helping others made {his} heart feel big and warm.",
        "From then on, {name} always kept an eye out for animals that needed help.",
        "{Name} learned that even a small person can make a big difference.",
        "Every time {name} went {to_place} after that, {he} looked for the {critter} and smiled.",
    )


_MISUNDERSTANDINGS = (  # (what the hero notices, what the hero thinks, says it, what it really was)
    ("{His} {obj} was not where {he} had left it, and {friend} had been playing nearby",
     "{friend} had taken it", "I think {friend} took my {obj}.",
     "{friend} had put the {obj} inside to keep it safe from the rain"),
    ("{friend} walked right past {him} without saying hello",
     "{friend} was angry with {him}", "I think {friend} is angry with me.",
     "{friend} had a toothache and did not feel like talking"),
    ("Something was rustling and huffing in the bushes",
     "a monster was hiding in the garden", "I think there is a monster in the garden.",
     "the monster was only a hedgehog snuffling in the leaves"),
    ("Nobody had said a word about {his} birthday all day",
     "everyone had forgotten it", "I think everyone forgot my birthday.",
     "they had been busy getting ready for a surprise party"),
    ("{friend} did not come to play for three whole days",
     "{friend} did not want to be {his} friend anymore", "I think {friend} does not like me anymore.",
     "{friend} had been busy helping {fhis} grandma plant her garden"),
    ("Every night, a strange thumping came from the attic",
     "a ghost lived up there", "I think there is a ghost in the attic.",
     "the thumping was a family of mice rolling a walnut across the floor"),
    ("{friend} looked at {his} drawing and burst out laughing",
     "{friend} thought the drawing was silly", "I think {friend} laughed at my drawing.",
     "{friend} had been laughing at a bird behind {him} that was wearing a leaf like a hat"),
    ("A big shadow with long claws moved across {his} bedroom wall",
     "a giant was outside the window", "I think there is a giant outside my window.",
     "the shadow came from the branches of the old tree, waving in the wind"),
    ("{friend} was whispering with the other children and stopped when {name} came near",
     "they were keeping a secret from {him}", "I think they have a secret, and I am left out.",
     "they were planning a game, and they wanted {name} to be the captain"),
)


def _plot_misunderstanding(w: _Writer) -> None:
    _object(w)
    clue, thought, spoken, truth = w.pick(_MISUNDERSTANDINGS)
    w.slots["worry"] = w.pick(("worried", "upset", "confused", "uneasy", "gloomy", "nervous"))
    w.slots.update(clue=w.fill(clue), thought=w.fill(thought), spoken=w.fill(spoken), truth=w.fill(truth))
    w.slots["Truth"] = w.slots["truth"][0].upper() + w.slots["truth"][1:]
    _time(w)
    _introduce(w)
    w.add("{His} best friend was {friend_intro}.", "{Name} and {friend} were best friends.")
    w.paragraph()
    w.maybe(0.5, "{Time} something strange happened.", "{Time} {name} noticed something odd.",
            "{Time} things felt wrong.")
    w.add("{clue}.")
    w.add("{Name} was sure that {thought}.", "{Name} started to believe that {thought}.")
    w.maybe(0.6, "{He} felt {worry} all day.", "{He} could not stop thinking about it.",
            "{His} tummy twisted into a knot.")
    w.say("hero", "cross", "I don't like this one bit!", "I don't understand why this is happening!", "This is awful!")
    w.paragraph()
    w.add("Then {parent} came to sit with {him}.", "After a while, {parent} found {him}.")
    w.say("grown_up", "kind", "What is the matter?", "You look upset. Do you want to talk about it?")
    w.say("hero", "sad", "{spoken}")
    w.say("grown_up", "kind", "Sometimes things are not what they seem. Why don't we find out?",
          "Before you decide, you should ask. Let's go and see.")
    w.add("So they went to find out.", "{Name} took a deep breath and went to look.")
    w.add("It turned out that {truth}.", "And guess what? {Truth}!")
    w.paragraph()
    w.say("hero", "happy", "Oh! I got it all wrong!", "Oh! So that is what happened!")
    w.add("{Name} laughed, and everyone laughed with {him}.", "{Name} felt silly, but mostly {he} felt relieved.")
    w.maybe(0.5, "{He} said sorry for being grumpy.", "{He} gave {friend} a big hug.")
    w.add(
        "{Name} learned that it is better to ask than to guess.",
        "From then on, when something seemed wrong, {name} asked before {he} got upset.",
        "{Name} learned that things are not always what they seem.",
    )


_GIFTS = (  # (gift, how it is made, what nearly goes wrong, how it is saved)
    ("a card", "drew a big heart on it with every crayon in the box", "{name} spilled juice all over it",
     "dried it on the windowsill and it looked even more colorful"),
    ("a cake", "mixed flour, eggs and sugar in a big bowl", "the cake came out a little lopsided",
     "covered it with so much icing that nobody could tell"),
    ("a flower crown", "wove daisies and clover together", "a goat ate half of it",
     "picked more flowers and made it again, even prettier"),
    ("a painted rock", "painted a smiling sun on a smooth stone", "{name} dropped it in the mud",
     "washed it in the stream until it shone"),
    ("a bead necklace", "threaded tiny beads onto a string", "the string broke and the beads rolled everywhere",
     "crawled under the table to find every single bead"),
    ("a song", "made up a song with four silly verses", "{name} forgot the last verse",
     "made up a new ending on the spot, and it was the funniest part"),
    ("a paper crown", "cut out points and glued on sparkles", "the dog sat on it",
     "smoothed it out and added more sparkles"),
)


def _plot_surprise(w: _Writer) -> None:
    gift, make, oops, save = w.pick(_GIFTS)
    w.slots.update(gift=gift, make=w.fill(make), oops=w.fill(oops), save=w.fill(save))
    w.slots["for"] = w.pick(("friend", "parent"))
    w.slots["who"] = w.slots["friend"] if w.slots["for"] == "friend" else w.slots["parent"]
    w.slots["who_desc"] = "{his} best friend {friend}" if w.slots["for"] == "friend" else "{parent}"
    w.slots["who_desc"] = w.fill(w.slots["who_desc"])
    _introduce(w)
    w.paragraph()
    w.add("Tomorrow was {who_desc}'s birthday, and {name} wanted to make something special.",
          "{Name} knew that {who_desc}'s birthday was coming, and {he} had a secret plan.")
    w.say("hero", "excited", "I will make {gift} all by myself!", "It will be the best surprise ever!")
    w.add("{Name} {make}.", "First, {name} {make}.")
    w.add("It was hard work, but {name} did not give up.", "{He} worked very hard and very quietly.")
    w.add("But then {oops}.", "Oh no! Just when it was almost done, {oops}.")
    w.say("hero", "sad", "Now it is ruined!", "Oh no, what will I do?", "Everything is spoiled!")
    w.add("{Name} almost cried, but then {he} had an idea.", "{Name} thought hard.")
    w.add("{He} {save}.")
    w.paragraph()
    w.add("The next morning, {name} hid the present behind {his} back.",
          "On the big day, {name} waited behind the door.")
    w.say("hero", "happy", "Surprise! Happy birthday, {who}!", "Happy birthday! This is for you!")
    w.add("{who} gasped.", "{who}'s eyes grew wide.", "{who} smiled the biggest smile {name} had ever seen.")
    w.say(w.slots["for"] if w.slots["for"] == "friend" else "grown_up", "happy",
          "You made this for me? I love it!", "This is the best present I have ever had!",
          "Thank you! It is wonderful!")
    _feel(w, happy=True)
    w.add(
        "{Name} felt {feeling}. Giving a present felt even better than getting one.",
        "{Name} learned that the best gifts are the ones made with love.",
        "It was a birthday that nobody would ever forget.",
    )


def _plot_garden(w: _Writer) -> None:
    plant, grown = w.pick((("a sunflower seed", "a sunflower taller than {parent}"),
                           ("a pumpkin seed", "a round orange pumpkin"),
                           ("a bean", "a bean plant that climbed all the way up the fence"),
                           ("a tomato seed", "a plant covered in little red tomatoes"),
                           ("a strawberry plant", "a bush full of sweet red strawberries"),
                           ("an acorn", "a tiny oak tree with three green leaves"),
                           ("a carrot seed", "a carrot as long as {his} arm")))
    w.slots.update(plant=plant, grown=w.fill(grown))
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add("{Time} {parent} gave {name} {plant}.", "{Time} {name} found {plant} on the path and showed it to {parent}.")
    w.say("grown_up", "kind", "If you plant it and take care of it, it will grow.",
          "Plant it in the garden and see what happens.")
    w.add("{Name} dug a little hole and planted it. {He} gave it some water.",
          "{Name} pushed it into the soft dirt and patted the ground.")
    w.add("The next morning, {he} ran outside to look. Nothing had happened.",
          "Every day, {name} checked the spot, but there was only dirt.")
    w.say("hero", "cross", "Why is it not growing?", "This is taking forever!", "Maybe it is broken.")
    w.say("grown_up", "kind", "Good things take time. Keep giving it water and sunshine.",
          "Be patient. Under the ground, it is busy growing roots.")
    w.paragraph()
    w.add("So {name} waited.", "So {name} kept watering it.")
    w.maybe(0.3, "{He} pulled the weeds.", "{He} sang to it every morning.", "{He} chased away a hungry bird.")
    w.add("One day, {he} saw a tiny green shoot poking out of the ground.",
          "Then one morning there was a little green sprout!",
          "At last, two tiny leaves pushed up through the dirt.")
    w.say("hero", "excited", "It's growing! It's really growing!", "Come and see! It's alive!")
    w.maybe(0.7, "Weeks went by, and the sprout grew and grew.", "The summer went by, and it kept growing.")
    w.paragraph()
    w.add("At last, there was {grown}.", "By the end of summer, {name} had {grown}.")
    _feel(w, happy=True)
    w.add("{Name} felt {feeling}.", "{Name} showed it to {his} friend {friend}, who could hardly believe it.")
    w.add(
        "{Name} learned that waiting is hard, but some things are worth waiting for.",
        "{Name} learned that with care and patience, small things can grow into big things.",
    )


_ACCIDENTS = (  # (what happened, what got spoiled, what it looked like after)
    ("{name} was bouncing a ball in the living room, and it hit {parent}'s favorite blue vase",
     "the vase", "in pieces"),
    ("{name} climbed on a chair to reach the cookie jar, and it slipped out of {his} hands", "the jar", "cracked"),
    ("{name} ran across the beach without looking and tripped right over {friend}'s sandcastle",
     "the sandcastle", "flat"),
    ("{name} was painting at the kitchen table, and {he} knocked over the pot of purple paint",
     "the new white tablecloth", "covered in purple spots"),
    ("{name} kicked {his} ball much too hard, and it flew straight at the shed", "the shed window", "cracked"),
    ("{name} was having a pillow fight on the sofa, and a pillow knocked over the reading lamp",
     "the lamp", "bent"),
    ("{name} borrowed {friend}'s toy plane and flew it too close to a tree", "the plane's wing", "snapped"),
    ("{name} rode {his} scooter right through the flower bed", "the tulips", "squashed"),
    ("{name} took the new library book into the bath, and it slipped into the water", "the book", "soaking wet"),
)


def _plot_honesty(w: _Writer) -> None:
    what, thing, result = w.pick(_ACCIDENTS)
    w.slots.update(what=w.fill(what), thing=w.fill(thing), result=result)
    w.slots["Thing"] = w.slots["thing"][0].upper() + w.slots["thing"][1:]
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add("{Time} {what}.")
    w.add("In a moment, {thing} was {result}.", "Oh dear. {Thing} was {result}.", "Now {thing} was {result}.")
    w.say("hero", "scared", "Oh no. What have I done?", "Uh-oh. I will be in big trouble.")
    w.add("{Name} ran off and pretended nothing had happened.",
          "{Name} ran and hid, hoping nobody would notice.")
    w.paragraph()
    w.add("Later, {parent} saw what had happened.", "Soon {parent} found out that something was wrong.")
    w.say("grown_up", "neutral", "Does anyone know what happened here?", "Hmm. I wonder how this happened?")
    w.maybe(0.6, "{Name} said nothing. But {his} tummy felt heavy.", "{Name} looked at the floor.",
            "{Name} felt hot and prickly all over.")
    w.maybe(0.5, "All through dinner, {name} could not stop thinking about it.", "That night, {name} could not sleep.")
    w.paragraph()
    w.add("At last, {name} went to {parent}.", "Finally, {name} could not keep the secret any longer.")
    w.say("hero", "sad", "It was me. I did it by accident, and then I hid. I am sorry.",
          "I have to tell you something. It was me, and I was scared to say so.")
    w.add("{parent} was quiet for a moment. Then {phe} hugged {name}.",
          "{parent} knelt down and looked at {him} kindly.")
    w.say("grown_up", "kind",
          "Thank you for telling me the truth. Accidents happen. Telling the truth is what matters.",
          "I am proud of you for being honest. Let's fix it together.")
    w.add("Together, they cleaned up.", "They fixed what they could, and {name} helped.")
    w.add(
        "{Name} felt light and happy again. {He} learned that telling the truth is always the best choice.",
        "{Name} learned that hiding a mistake feels much worse than saying sorry.",
    )


_RACES = (  # (race, how you move in it: base, past, -ing)
    ("the big race at the summer fair", "run", "ran", "running"),
    ("the sack race", "hop", "hopped", "hopping"),
    ("the relay race on sports day", "run", "ran", "running"),
    ("the hopping race in the meadow", "hop", "hopped", "hopping"),
    ("the race to the old oak tree", "run", "ran", "running"),
    ("the egg-and-spoon race", "walk", "hurried", "walking"),
    ("the race around the duck pond", "run", "ran", "running"),
)
_RACE_TROUBLES = (
    "tripped over a root and fell", "slipped in the mud", "lost a shoe and stumbled",
    "got a cramp in {fhis} leg", "fell and scraped {fhis} knee",
)


def _plot_race(w: _Writer) -> None:
    race, move, moved, moving = w.pick(_RACES)
    w.slots.update(race=race, move=move, moved=moved, moving=moving, trouble=w.fill(w.pick(_RACE_TROUBLES)))
    w.slots["prize"] = w.pick(("a shiny blue ribbon", "a golden medal made of chocolate", "a little silver cup",
                               "a big jar of honey", "a crown made of leaves"))
    _time(w)
    _introduce(w)
    w.add("{He} was very fast at {moving}.", "{He} had been practicing {moving} all summer.")
    w.paragraph()
    w.add("{Time} it was the day of {race}. The winner would get {prize}.",
          "{Time} everyone gathered for {race}. There was {prize} for the winner.")
    w.say("hero", "excited", "I am going to win!", "That prize is going to be mine!")
    w.add("{His} friend {friend} was racing too.", "{friend} stood next to {him} at the starting line.")
    w.add('"Ready, set, go!" called the judge.', '"On your marks, get set, go!" shouted the judge.',
          "The judge blew a whistle, and the race began.", '"Three, two, one, go!" cried the judge.')
    w.add("{Name} {moved} as fast as {he} could. Soon {he} was in front!",
          "Off they went! {Name} {moved} faster than everyone else.")
    w.paragraph()
    w.add("Then {name} heard a cry behind {him}. {friend} {trouble}.",
          "But near the end, {friend} {trouble}.")
    w.maybe(0.5, "{Name} looked at the finish line. Then {he} looked back at {friend}.",
            "{Name} could almost touch the finish line.")
    w.maybe(0.4, "If {he} kept going, {he} would win.", "{He} wanted that prize so much.")
    w.add("{Name} turned around and went back.", "{Name} stopped and ran back to help.")
    w.say("friend", "sad", "Go on! You can still win!", "Don't stop for me!")
    w.say("hero", "kind", "Friends come first.", "I would rather finish with you.", "We can finish together.")
    w.add("{Name} helped {friend} up, and they crossed the finish line side by side. They came last.",
          "Arm in arm, the two friends crossed the finish line. Everyone else had already finished.",
          "{Name} put {friend}'s arm over {his} shoulder, and slowly they reached the end together. "
          "They were the very last.")
    w.paragraph()
    w.add("But the crowd cheered louder for them than for anyone else.",
          "Everyone clapped and cheered for them anyway.",
          "Then something wonderful happened. One by one, everyone began to clap for them.")
    w.maybe(0.5, "The judge gave {name} a special prize for being the kindest racer of all.",
            "Later, {parent} gave {name} a big hug and said that {he} had done the best thing of all.")
    w.add(
        "{Name} did not win the race, but {he} felt like a winner anyway.",
        "{Name} learned that being a good friend matters more than winning.",
        "{Name} learned that kindness is the best kind of winning.",
    )


_NIGHT_TIMES = ("One night,", "One windy night,", "Late one night,", "One summer night,", "One quiet night,",
                "The night before a big day,")
_SLEEP_TROUBLES = (
    "Every little sound seemed very loud", "{His} mind was full of thoughts about tomorrow",
    "The moon was shining right into {his} eyes", "{His} bed felt too hot, then too cold",
    "{He} was not one bit sleepy",
)
_DREAMS = (
    "flying over the clouds", "a castle made of cake", "swimming with friendly whales",
           "a garden where the flowers sang",
    "a train that went all the way to the moon", "a picnic with a friendly dragon", "a boat made of leaves",
    "a snowy hill as big as a mountain", "a forest where the trees could talk",
)


def _plot_bedtime(w: _Writer) -> None:
    w.slots.update(night=w.pick(_NIGHT_TIMES), sleep_trouble=w.fill(w.pick(_SLEEP_TROUBLES)), dream=w.pick(_DREAMS))
    w.slots["cuddly"] = "soft blanket" if w.cast["hero"].is_animal else w.pick(("teddy bear", "stuffed bunny",
                                                                                "pillow"))
    _introduce(w)
    w.paragraph()
    w.add("{night} {name} could not fall asleep.", "{night} {name} lay in bed with {his} eyes wide open.")
    w.add("{sleep_trouble}.")
    w.add("{He} tossed and turned.", "{He} hugged {his} {cuddly} tight.", "{He} counted sheep all the way to fifty.")
    w.add("It did not help.", "But sleep would not come.", "That did not work either.", "{His} eyes stayed wide open.")
    w.say("hero", "sad", "I can't sleep!", "{parent}, are you awake?")
    w.paragraph()
    w.add("{parent} came in and sat on the edge of the bed.", "Soon {parent} tiptoed in.")
    w.say("grown_up", "kind", "Let's look at the sky together.", "Shall I tell you a secret about the night?")
    w.add("{parent} opened the curtains. The moon was round and bright, and the sky was full of stars.",
          "They looked out of the window. A silver moon hung over the trees.",
          "{parent} pulled back the curtains. The stars twinkled like tiny lamps.",
          "Together they peeked outside. The whole garden was silver in the moonlight.")
    w.say("grown_up", "kind", "The moon is a night-light for the whole world. Everyone is sleeping under it.",
          "Every star is watching over someone. That one is watching over you.")
    w.maybe(0.6, "They listened to the crickets singing in the grass.", "Far away, an owl hooted softly.",
            "{parent} hummed a quiet song.")
    w.paragraph()
    w.add("Slowly, {name}'s eyes grew heavy.", "{Name} yawned a big yawn.")
    w.say("hero", "scared", "Good night, moon.", "Will you stay a little longer?")
    w.add("Soon {name} was fast asleep, dreaming of {dream}.",
          "Before long, {name} was asleep. All night long, {he} dreamed of {dream}.")
    w.maybe(0.5, "{parent} smiled and tucked the blanket around {him}.", "{parent} kissed {him} on the forehead.")


_PETS = (  # (pet, food, the trouble it makes, how it shows it was not cared for)
    ("puppy", "dog food", "chewed up {parent}'s slipper", "whined by its empty bowl"),
    ("kitten", "cat food", "climbed up the curtains and could not get down", "meowed sadly by its empty bowl"),
    ("hamster", "seeds", "escaped from its cage and hid inside a shoe", "sat very still in the corner of its cage"),
    ("goldfish", "fish flakes", "splashed water all over the table", "swam in slow, sad circles"),
    ("bunny", "carrots", "nibbled the corner of the rug", "thumped its foot by its empty bowl"),
    ("turtle", "crunchy lettuce", "crawled under the sofa and went to sleep", "hid inside its shell all day"),
    ("parrot", "sunflower seeds", "learned to copy the doorbell", "ruffled its feathers and would not sing"),
)


def _plot_new_pet(w: _Writer) -> None:
    pet, food, mischief, neglect = w.pick(_PETS)
    w.slots.update(pet=pet, food=food, mischief=w.fill(mischief), neglect=neglect, a_pet=_a(pet))
    while True:
        w.slots["pet_name"] = w.pick(_ANIMAL_NAMES)
        if w.slots["pet_name"] not in (w.slots["name"], w.slots["friend"]):
            break
    _time(w)
    _introduce(w)
    w.add("More than anything, {he} wanted a pet.", "{He} had wished for a pet for a very long time.")
    w.paragraph()
    w.add("{Time} {parent} came home with a box. Inside was a tiny {pet}!",
          "{Time} {parent} had a surprise: {a_pet} of {his} very own!")
    w.say("hero", "excited", "Can I keep it? I will take care of it every day!", "Is it really mine? Thank you!")
    w.say("grown_up", "neutral", "A pet is a big job. You must give it {food} and fresh water every day.",
          "Remember, a pet needs you. It needs {food}, water and lots of love.")
    w.add("{Name} named the {pet} {pet_name}.", "{Name} decided to call the {pet} {pet_name}.")
    w.maybe(0.5, "At first, everything was fun.", "For a few days, {name} did everything right.")
    w.maybe(0.6, "One morning {pet_name} {mischief}, and everyone laughed.", "Once, {pet_name} {mischief}.")
    w.paragraph()
    w.add("But one day, {name} was so busy playing with {his} friend {friend} that {he} forgot all about {pet_name}.",
          "But one busy day, {name} forgot to feed {pet_name}.")
    w.add("In the evening, {pet_name} {neglect}.", "When {name} came home, {pet_name} {neglect}.")
    _feel(w, happy=False)
    w.maybe(0.5, "{Name} felt {feeling}.", "{Name}'s face went red.")
    w.say("hero", "sad", "I forgot you, {pet_name}. I am so sorry.", "Oh no! You must be so hungry!")
    w.add("{He} quickly gave {pet_name} some {food} and fresh water.",
          "{He} ran to get the {food} and filled the bowl right up.")
    w.paragraph()
    w.add("Then {name} made a chart with a box for every day.", "{Name} asked {parent} to help {him} make a list.")
    w.maybe(0.5, "Each time {he} fed {pet_name}, {he} drew a little star in the box.")
    w.add(
        "From then on, {name} never forgot {pet_name} again, and {pet_name} was the happiest {pet} in town.",
        "{Name} learned that taking care of a pet means remembering it every single day.",
    )


_NEIGHBORS = (("Mister Lin", False), ("Miss Dot", True), ("Granny Wren", True), ("Mister Pike", False),
              ("Missus Bell", True), ("Grandpa Joe", False), ("Miss Hazelwood", True), ("Mister Okafor", False))
_NEIGHBOR_PROBLEMS = (  # (problem, how the hero helps)
    ("could not carry {nhis} heavy bags of groceries up the steps", "carried the bags up the steps one by one"),
    ("had lost {nhis} glasses", "looked everywhere, and at last found them on top of {neighbor}'s head"),
    ("could not rake all the leaves in {nhis} yard", "raked the leaves into big piles"),
    ("was too sick to walk {nhis} little dog", "walked the dog around the block every day that week"),
    ("could not reach the apples on {nhis} tree", "climbed the ladder and picked a whole basket of apples"),
    ("had a garden full of weeds", "pulled the weeds until the flowers had room to grow"),
    ("was feeling lonely", "visited every afternoon to play cards and share a pot of tea"),
)
_REWARDS = ("gave {him} a warm slice of apple pie", "gave {him} a jar of homemade jam", "gave {him} a funny old hat",
            "gave {him} a bag of lemon candies", "gave {him} a book with golden pages",
            "taught {him} a card trick that nobody else knew", "told {him} a story about the olden days")


def _plot_neighbor(w: _Writer) -> None:
    neighbor, female = w.pick(_NEIGHBORS)
    problem, help_ = w.pick(_NEIGHBOR_PROBLEMS)
    w.slots.update(neighbor=neighbor, Neighbor=neighbor[0].upper() + neighbor[1:], nhe="she" if female else "he",
                   nhis="her" if female else "his", nHe="She" if female else "He")
    w.slots.update(problem=w.fill(problem), help=w.fill(help_), reward=w.fill(w.pick(_REWARDS)))
    _time(w)
    _introduce(w)
    w.add("Next door lived {neighbor}, who was very old and walked with a cane.",
          "{Neighbor} lived next door. {nHe} was very old and very kind.")
    w.paragraph()
    w.add("{Time} {name} saw that {neighbor} {problem}.", "{Time} {name} noticed that {neighbor} {problem}.")
    w.add("{Neighbor} looked tired and sad.", "{Neighbor} sighed a long sigh.")
    w.maybe(0.6, "{Name} wanted to go and play, but {he} stopped.", "{Name} thought about it for a moment.")
    w.say("hero", "kind", "Can I help you, {neighbor}?", "Let me help!", "Don't worry. I can help you.")
    w.add("{Neighbor} smiled a wrinkly smile.", "{Neighbor}'s eyes twinkled.")
    w.paragraph()
    w.add("So {name} {help}.", "{Name} {help}.")
    w.maybe(0.5, "It was hard work, but {name} did not mind.", "{His} friend {friend} saw them and came to help too.")
    w.add("Afterwards, {neighbor} {reward}.", "To say thank you, {neighbor} {reward}.")
    w.add('"Thank you," said {neighbor}. "You have a kind heart."', '"What a helpful child you are," said {neighbor}.')
    _feel(w, happy=True)
    w.add(
        "{Name} walked home feeling {feeling}. Helping someone had felt even better than playing.",
        "After that, {name} visited {neighbor} every week, and they became the best of friends.",
        "{Name} learned that small kind acts can make a big difference.",
    )


_GOALS = (  # (goal, arriving there)
    ("the sea", "{Name} climbed over a sand dune, and there it was: the sea, blue and wide and sparkling"),
    ("the top of the tallest hill", "{Name} reached the top of the hill and saw the whole valley, tiny houses and all"),
    ("the place where the river began", "{Name} found a little spring bubbling up between the mossy stones"),
    ("real snow", "{Name} climbed high into the mountains, and soft white flakes fell on {his} nose"),
    ("the big waterfall", "{Name} heard a roar, and there was the waterfall, with a rainbow dancing in the spray"),
    ("the field of sunflowers", "{Name} walked into a field of sunflowers that were much taller than {him}"),
)
_JOURNEY_HELPERS = (
    "a frog showed {him} the stepping stones across a stream",
    "a goose let {him} ride on its back over a wide lake",
    "a snail told {him} that slow and steady gets you there",
    "a squirrel shared an acorn when {he} was hungry",
    "a wise old owl pointed the way with its wing",
    "a friendly beaver built {him} a little bridge",
    "a deer let {him} rest in the shade of a big tree",
)


def _plot_journey(w: _Writer) -> None:
    goal, there = w.pick(_GOALS)
    w.slots.update(goal=goal, there=w.fill(there))
    helpers = w.rng.sample(_JOURNEY_HELPERS, 2)
    w.slots.update(help1=w.fill(helpers[0]), help2=w.fill(helpers[1]))
    _introduce(w)
    w.add("{Name} had always wanted to see {goal}.", "{Name} dreamed every night of seeing {goal}.")
    w.paragraph()
    w.add("One morning, {he} packed a little bag and set off.",
          "One morning, {name} said goodbye to {parent} and set off.")
    w.say("grown_up", "kind", "Be careful, and come home before dark.", "Take this snack for the way, and be safe.")
    w.maybe(0.5, "The path was long.", "The path went up and down and around.")
    w.add("On the way, {help1}.", "First, {help1}.")
    w.add("Later, {help2}.", "After that, {help2}.")
    w.maybe(0.3, "{Name} thanked them both.", "{Name} said thank you and kept going.")
    w.add("Then dark clouds came, and {name} felt small and far from home.",
          "By lunchtime {name}'s legs were tired, and {he} almost turned back.")
    w.say("hero", "scared", "Maybe I should go home.", "Is it much farther?")
    w.add("But {he} took a deep breath and kept going.", "But {he} remembered {his} dream and walked on.")
    w.paragraph()
    w.add("At last, {there}.", "Finally, {there}.")
    w.say("hero", "happy", "It is even more beautiful than I dreamed!", "I made it!")
    w.add("{Name} stayed for a while. Then {he} went home before dark, just as {he} had promised.",
          "When the sun began to set, {name} hurried home.")
    w.add(
        "That night, {he} told {parent} all about it. {Name} had seen {goal}, but the best part was coming home.",
        "{Name} learned that big dreams are worth a long walk.",
        "{Name} learned that a journey is easier with the help of friends along the way.",
    )


_MESS = (
    "blocks all over the floor", "socks under the bed", "crayons on the desk", "puzzle pieces on the rug",
    "books piled on the chair", "a sock hanging from the lamp", "toy cars under the pillow", "paper scraps everywhere",
    "marbles in the slippers", "a teddy bear on top of the wardrobe", "dress-up clothes on the windowsill",
)


def _plot_tidy_room(w: _Writer) -> None:
    _object(w)
    _place(w)
    _time(w)
    mess = w.rng.sample(_MESS, 3)
    w.slots.update(mess1=mess[0], mess2=mess[1], mess3=mess[2])
    _introduce(w)
    w.add("But {name} did not like to tidy up.", "{Name} never put {his} toys away.")
    w.paragraph()
    w.add("{His} room was a mess. There were {mess1}, {mess2} and {mess3}.",
          "{Name}'s room looked like a storm had blown through it. There were {mess1} and {mess2}.")
    w.add("{Time} {parent} wanted to go {to_place}.",
          "{Time} the sun was shining, and {parent} said they could go {to_place}.")
    w.say("grown_up", "neutral", "We can go when your room is tidy.", "First tidy your room, and then we can go.")
    w.say("hero", "cross", "But it will take forever!", "Tidying is boring!", "Do I have to?")
    w.add("{Name} wanted to bring {his} {obj_desc}, but {he} could not find it anywhere.",
          "{Name} looked for {his} {obj} to take along. It was lost somewhere in the mess.")
    w.paragraph()
    w.say("grown_up", "kind", "Let's make it a game. Who can put away ten things the fastest?",
          "Let's sing a tidy-up song while we work.", "If we do it together, it will be quick.")
    w.maybe(0.4, "So they got to work.", "{Name} sighed, but {he} began.")
    w.add("The books went back on the shelf, the cars went into their box, and the socks went into the basket.",
          "{Name} picked up one thing, then another, then another.",
          "They sorted everything into piles: toys, books, clothes and things to throw away.")
    w.maybe(0.4, "It was more fun than {name} had thought.",
            "{parent} sang silly words, and {name} giggled the whole time.")
    w.add("Under the very last pile, {name} found {his} {obj}!",
          "When the floor was clear, there was the {obj}, under the bed!")
    w.say("hero", "happy", "There you are!", "My {obj}! It was here all along!")
    w.paragraph()
    w.maybe(0.6, "Now the room looked bright and new.", "The floor was clean, and everything had its place.")
    w.add("Then they went {to_place}, and {name} took {his} {obj} along.",
          "Off they went {to_place}, with the {obj} too.")
    w.add(
        "{Name} learned that tidying up is easier when you do it together.",
        "From then on, {name} put {his} toys away every evening, so {he} always knew where to find them.",
        "{Name} learned that a tidy room is a room where nothing gets lost.",
    )


_RECIPES = (  # (what, "the" form, ingredients, a step, what the house smelled of)
    ("cookies", "the cookies", "flour, butter, sugar and chocolate chips", "rolled the dough into little balls",
     "warm chocolate"),
    ("bread", "the bread", "flour, water, yeast and a pinch of salt",
     "kneaded the dough until it was smooth and stretchy", "fresh bread"),
    ("an apple pie", "the pie", "apples, flour, butter and cinnamon", "sliced the apples and laid them in the dish",
     "apples and cinnamon"),
    ("a lemon cake", "the cake", "flour, milk, eggs and two bright lemons", "stirred the batter until it was smooth",
     "lemons and butter"),
    ("banana muffins", "the muffins", "ripe bananas, flour, eggs and oats", "spooned the batter into paper cups",
     "sweet bananas"),
    ("a carrot cake", "the cake", "grated carrots, flour, eggs and raisins", "stirred the thick orange batter",
     "spices and sugar"),
    ("gingerbread", "the gingerbread", "flour, ginger, molasses and butter",
     "cut the dough into stars and little people", "ginger"),
)
_BAKING_MISHAPS = (  # (what went wrong, how it was put right)
    ("{name} put in salt instead of sugar", "They tasted it, made funny faces and started again. This time, {name} "
     "read every label carefully"),
    ("a piece of eggshell fell into the bowl", "{parent} showed {him} how to scoop it out with a spoon"),
    ("a cloud of flour puffed up, and {name} looked like a snowman", "They laughed and swept it all up together"),
    ("{name} forgot to set the timer", "Luckily, the sweet smell told them just in time"),
    ("{name} dropped the wooden spoon on the floor", "{He} washed it and tried again, more slowly this time"),
)


def _plot_baking(w: _Writer) -> None:
    what, the_what, ingredients, step, smell = w.pick(_RECIPES)
    mishap, fix = w.pick(_BAKING_MISHAPS)
    w.slots.update(what=what, the_what=the_what, The_what=the_what.capitalize(), ingredients=ingredients, step=step,
                   smell=smell, mishap=w.fill(mishap), fix=w.fill(fix))
    _time(w)
    _introduce(w)
    w.paragraph()
    w.add("{Time} {parent} asked {name} to help bake {what}.",
          "{Time} it was raining, so {name} and {parent} decided to bake {what}.")
    w.say("hero", "excited", "Can I crack the eggs?", "Can I stir? Please?", "Can I lick the spoon when we are done?")
    w.maybe(0.6, "First, they washed up and put on aprons.", "{parent} tied an apron around {name}.")
    w.add("They gathered {ingredients}.", "On the table they set out {ingredients}.")
    w.add("{Name} {step}.", "Together they {step}.")
    w.add("But then {mishap}.", "Suddenly, {mishap}.")
    w.say("hero", "scared", "Oops! Did I ruin it?", "Oh no! I spoiled everything!")
    w.say("grown_up", "kind", "Don't worry. Every baker makes mistakes.", "Mistakes are part of cooking.")
    w.add("{fix}.")
    w.paragraph()
    w.add("Soon the whole house smelled of {smell}.",
          "While they waited, the kitchen filled with the smell of {smell}.")
    w.add("When the timer rang, {the_what} came out golden and warm.", "At last, {the_what} came out of the oven.")
    w.add("{Name} took some to {his} friend {friend}.", "They shared {the_what} with the neighbors.")
    w.say("friend" if w.chance(0.5) else "grown_up", "happy", "This is delicious!", "Yum! You are a real baker!")
    w.add(
        "{Name} learned that baking takes patience, and that most mistakes can be fixed.",
        "That day, {name} decided to be a baker when {he} grew up.",
        "{Name} learned that food made together tastes the best.",
    )


_ILLNESSES = ("a runny nose", "a sore throat", "a cough", "a fever", "a tummy ache")
_MISSED = ("the class trip to the zoo", "{friend}'s birthday party", "the big soccer game", "the school play",
           "the picnic in the park")
_GET_WELL = ("a drawing of a smiling sun", "a card covered in stickers", "a paper flower", "a funny letter",
             "a little clay bird")


def _plot_sick_day(w: _Writer) -> None:
    w.slots.update(illness=w.pick(_ILLNESSES), missed=w.fill(w.pick(_MISSED)), get_well=w.pick(_GET_WELL))
    w.slots["Time"] = w.pick(("One morning,", "On Monday morning,", "Early one morning,", "One cold morning,"))
    _introduce(w)
    w.paragraph()
    w.add("{Time} {name} woke up with {illness}.", "{Time} {name} felt hot and tired, and {he} had {illness}.")
    w.add("Today was {missed}.", "It was the day of {missed}, and {name} had been waiting for it all week.")
    w.say("grown_up", "kind", "I am sorry, but you need to stay in bed today.", "You need to rest and get better.")
    w.say("hero", "sad", "But I don't want to miss it!", "It's not fair. I feel fine!")
    w.maybe(0.6, "{parent} felt {his} forehead and took {his} temperature.", "{Name} sneezed three times in a row.")
    w.paragraph()
    w.add("{parent} brought {him} warm soup and a cup of tea with honey.",
          "{parent} made {him} a cozy nest of pillows and brought a bowl of soup.")
    w.add("{Name} read a book about pirates.", "{Name} watched the raindrops race down the window.",
          "{Name} made shadow animals on the wall with {his} hands.")
    w.add("In the afternoon, there was a knock at the door.", "Later, the doorbell rang.")
    w.add("It was {friend}, with {get_well} to say get well soon.", "{friend} had left {get_well} on the doorstep.")
    w.say("hero", "happy", "{friend} did not forget me!", "This is the best present!")
    _feel(w, happy=True)
    w.paragraph()
    w.add("{Name} slept and slept.", "That night, {name} slept for a long, long time.")
    w.add("Two days later, {name} felt strong again.", "By the weekend, {he} felt as good as new.")
    w.add(
        "{Name} learned that resting is how you get better, and that good friends remember you even when "
        "you are away.",
        "The first thing {name} did was run to thank {friend}.",
        "{Name} hung {friend}'s present above {his} bed, where {he} could see it every morning.",
    )


# (plot, share of stories, allows an animal hero)
_PLOTS = (
    (_plot_lost_object, 1.0, True),
    (_plot_new_friend, 1.0, True),
    (_plot_brave, 1.0, False),
    (_plot_sharing, 1.0, True),
    (_plot_trip, 0.8, False),
    (_plot_weather, 0.8, False),
    (_plot_skill, 1.0, True),
    (_plot_help_animal, 0.8, False),
    (_plot_misunderstanding, 0.8, True),
    (_plot_surprise, 0.8, True),
    (_plot_garden, 0.7, True),
    (_plot_honesty, 0.7, False),
    (_plot_race, 0.8, True),
    (_plot_bedtime, 0.8, True),
    (_plot_new_pet, 0.8, False),
    (_plot_neighbor, 0.7, False),
    (_plot_journey, 0.8, True),
    (_plot_tidy_room, 0.7, False),
    (_plot_baking, 0.7, True),
    (_plot_sick_day, 0.6, False),
)
_PLOT_CUM_WEIGHTS = tuple(itertools.accumulate(weight for _, weight, _ in _PLOTS))


def _write_story(rng: random.Random) -> str:
    plot, _, animal_ok = rng.choices(_PLOTS, cum_weights=_PLOT_CUM_WEIGHTS)[0]
    hero = _make_hero(rng, animal=animal_ok and rng.random() < 0.35)
    w = _Writer(rng, hero, _make_friend(rng, hero), _make_grown_up(rng, hero))
    w.slots["Name"] = hero.name
    plot(w)
    return w.text()


def generate_builtin_corpus(num_stories: int = 6000, seed: int = 0) -> list[str]:
    """`num_stories` distinct children's stories, the same list for the same `(num_stories, seed)`.

    Each story is one document (paragraphs separated by a single newline, no separator tokens), plain ASCII.
    The first `n` stories for a seed do not depend on `num_stories`, so a smaller corpus is a prefix of a larger one.
    """
    if isinstance(num_stories, bool) or not isinstance(num_stories, numbers.Integral) or num_stories < 1:
        raise ValueError(f"num_stories must be a positive int, got {num_stories!r}; the default is 6000")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an int, got {seed!r}")
    num_stories, seed = int(num_stories), int(seed)  # numpy integers too
    rng = random.Random(seed)
    stories: list[str] = []
    seen: set[str] = set()  # membership only, never iterated: order stays independent of PYTHONHASHSEED
    attempts = 0
    while len(stories) < num_stories:
        attempts += 1
        if attempts > 2 * num_stories + 1000:
            raise ValueError(
                f"could only write {len(stories)} distinct stories in {attempts} attempts; "
                f"ask for fewer than {num_stories} stories"
            )
        story = _write_story(rng)
        if story not in seen:
            seen.add(story)
            stories.append(story)
    return stories
