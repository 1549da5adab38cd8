#!/usr/bin/env python3
"""Records dlib's landmark output on the dev faces as a test fixture.

usage: make_landmark_fixtures.py DLIB_REF FACES_DIR > tests/data/vision/landmarks_dlib.json

For every annotated face it stores, numbers only (never pixels):
  - the ground-truth points (from the face's JSON),
  - the boxes fed to the predictor: the box given in the JSON; for point boxes
    also that box mapped to dlib's detector convention (README of the faces:
    9.7 % of the height higher, 1.025x wider, 1.05x taller) and dlib's own HOG
    detection that overlaps the face best (IoU >= 0.3), when there is one,
  - dlib's 68 points from each box (tests/vision/dlib_ref_landmarks).
"""
import glob
import json
import os
import subprocess
import sys


def iou(a, b):
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def mapped(box):
    l, t, w, h = box
    nw, nh = round(w * 1.025), round(h * 1.05)
    cx, cy = l + w / 2.0, t + h / 2.0 - 0.097 * h
    return [round(cx - nw / 2.0), round(cy - nh / 2.0), nw, nh]


def run(ref, img, boxes, detect=False):
    args = [ref] + (["--detect"] if detect else []) + [img] + ["%d,%d,%d,%d" % tuple(b) for b in boxes]
    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def main():
    ref, faces_dir = sys.argv[1], sys.argv[2]
    out = {"note": "dlib 19.24 shape_predictor_68_face_landmarks.dat output; numbers only",
           "images": []}
    for jf in sorted(glob.glob(os.path.join(faces_dir, "*.json"))):
        d = json.load(open(jf))
        img = os.path.join(faces_dir, d["image"])
        dets = run(ref, img, [], detect=True)["detections"]
        entry = {"image": d["image"], "width": d["width"], "height": d["height"],
                 "label_kind": d["label_kind"], "faces": []}
        for f in d["faces"]:
            boxes = [("given_" + f["box_kind"], f["box"])]
            if f["box_kind"] == "points_bbox":
                boxes.append(("mapped_points_bbox", mapped(f["box"])))
                best = max(dets, key=lambda b: iou(b, f["box"]), default=None)
                if best and iou(best, f["box"]) >= 0.3:
                    boxes.append(("dlib_detector", best))
            res = run(ref, img, [b for _, b in boxes])["faces"]
            entry["faces"].append({
                "points": f["points"],
                "runs": [{"box_kind": k, "box": b, "dlib_points": r["points"]}
                         for (k, b), r in zip(boxes, res)],
            })
        out["images"].append(entry)
    json.dump(out, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
