"""Held-out evaluation files follow FORMATS.md and never leave the held-out garments."""

from __future__ import annotations

from recsys.eval_files import Garment, compat_entries, fitb_questions, popularity, retrieval_entries

TYPES = {
    "top": ("Tops", "Shirts", "Shirt"),
    "bottom": ("Bottoms", "Trousers", "Jeans"),
    "shoe": ("Shoes", "Shoes", "Sneakers"),
}


def library() -> tuple[dict[str, list[str]], dict[str, Garment]]:
    garments = {f"{kind}{n}": Garment(f"{kind}{n}", *TYPES[kind]) for kind in TYPES for n in range(8)}
    outfits = {f"o{n}": [f"top{n}", f"bottom{n}", f"shoe{n % 4}"] for n in range(8)}
    outfits["o8"] = ["top0", "bottom1", "shoe0"]
    return outfits, garments


def test_fitb_hides_a_top_or_bottom_among_three_of_its_type() -> None:
    outfits, garments = library()
    questions = fitb_questions(outfits, garments, seed=0, prefix="t")
    assert len(questions) == len(outfits)
    for q in questions:
        answer = q["candidates"][q["answer"]]
        assert answer in outfits[q["outfit_id"]] and answer not in q["question"]
        assert len(set(q["candidates"])) == 4
        assert {garments[c].type for c in q["candidates"]} == {garments[answer].type}
        assert not set(q["candidates"]) - {answer} & set(outfits[q["outfit_id"]])
        assert q["blank_category"] in ("Tops", "Bottoms")
    assert {q["answer"] for q in questions} != {0}  # the answer's place is shuffled


def test_popularity_matched_negatives_are_as_popular_as_the_answer() -> None:
    outfits, garments = library()
    worn = popularity(outfits)
    for q in fitb_questions(outfits, garments, seed=0, prefix="t", match_popularity=True):
        answer = q["candidates"][q["answer"]]
        if garments[answer].category == "Tops":
            # top0 is worn twice, every other top once or never
            others = [worn[c] for c in q["candidates"] if c != answer]
            assert max(others) <= max(worn[answer], 1)


def test_compat_negatives_replace_every_garment_by_one_of_its_type() -> None:
    outfits, garments = library()
    entries = compat_entries(outfits, garments, seed=0, prefix="t")
    positives = [e for e in entries if e["label"] == 1]
    negatives = {e["id"].removesuffix("-neg"): e for e in entries if e["label"] == 0}
    assert len(positives) == len(negatives) == len(outfits)
    for positive in positives:
        negative = negatives[positive["id"]]
        assert sorted(garments[i].type for i in negative["items"]) == sorted(
            garments[i].type for i in positive["items"]
        )
        assert not set(negative["items"]) & set(positive["items"])


def test_retrieval_merges_identical_queries() -> None:
    outfits, garments = library()
    outfits["o9"] = ["top0", "bottom5", "shoe0"]  # same query as o8 for bottoms
    entries = retrieval_entries(outfits, garments, prefix="t")
    merged = [
        e for e in entries if e["query_items"] == ["shoe0", "top0"] and e["target_category"] == "Bottoms"
    ]
    assert len(merged) == 1 and set(merged[0]["relevant"]) >= {"bottom1", "bottom5"}
