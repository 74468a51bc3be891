"""Lay out an HTML page with a real CSS engine (WeasyPrint) in viewports of given widths.

Usage:  python3 tests/layout_width.py FILE WIDTH [WIDTH...]
        Prints a JSON object mapping each width to
          {"main": widest box of class "main" (px),
           "right": right edge of the box reaching furthest right, text included (px),
           "furthest": that box's element, as tag.class}
Needs `pip install weasyprint` (and Pango, a system library WeasyPrint loads: on Debian
`apt-get install libpango-1.0-0 libpangoft2-1.0-0`).
"""
import json
import logging
import sys


def main(path, widths):
    try:
        from weasyprint import CSS, HTML
    except (ImportError, OSError) as e:
        print(f"WeasyPrint is missing or cannot load Pango: {e} (pip install weasyprint)")
        sys.exit(3)
    # Warnings about mail-only CSS (mso-hide, …) are expected.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    with open(path, encoding="utf-8") as f:
        html = f.read()
    out = {}
    for width in widths:
        # A page as wide as the viewport and tall enough for one page: a screen, not paper.
        page = CSS(string="@page { size: %dpx 200000px; margin: 0 }" % width)
        doc = HTML(string=html, media_type="screen").render(stylesheets=[page])
        main_width, right, furthest = 0.0, 0.0, ""
        for p in doc.pages:
            for box in p._page_box.descendants():
                edge = box.position_x + box.margin_width()
                element = getattr(box, "element", None)
                classes = (element.get("class") or "") if element is not None else ""
                if "main" in classes.split():
                    main_width = max(main_width, box.margin_width())
                if edge > right:
                    right = edge
                    tag = getattr(box, "element_tag", None) or type(box).__name__
                    furthest = tag + ("." + classes if classes else "")
        out[str(width)] = {"main": main_width, "right": right, "furthest": furthest}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], [int(w) for w in sys.argv[2:]])
