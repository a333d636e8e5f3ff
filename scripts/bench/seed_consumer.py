"""A seed-style CDC consumer, for comparison only: kafka-python + scikit-learn `SGDClassifier.partial_fit`
on each change event (no table, no retraction, no exactness), as a plain Python data job would do it.

    python3 -m venv .venv-seed && .venv-seed/bin/pip install kafka-python scikit-learn
    .venv-seed/bin/python scripts/bench/seed_consumer.py --bootstrap 127.0.0.1:9092 --topic T --seconds 60

Reads the topic from the beginning (a fresh group) for --seconds, then prints one JSON line: events,
wall seconds, events/s, CPU seconds and events per CPU second (of this process).
"""
import argparse
import json
import resource
import time
import uuid

import numpy as np
from kafka import KafkaConsumer
from sklearn.linear_model import SGDClassifier

FEATURES = [
    'Income', 'Kidhome', 'Teenhome', 'Recency',
    'MntWines', 'MntFruits', 'MntMeatProducts', 'MntFishProducts', 'MntSweetProducts', 'MntGoldProds',
    'NumDealsPurchases', 'NumWebPurchases', 'NumCatalogPurchases', 'NumStorePurchases', 'NumWebVisitsMonth',
    'AcceptedCmp1', 'AcceptedCmp2', 'AcceptedCmp3', 'AcceptedCmp4', 'AcceptedCmp5', 'Complain',
]


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bootstrap', required=True)
    ap.add_argument('--topic', required=True)
    ap.add_argument('--seconds', type=float, default=60)
    a = ap.parse_args()
    consumer = KafkaConsumer(a.topic, bootstrap_servers=a.bootstrap, group_id=f'seed-{uuid.uuid4()}',
                             auto_offset_reset='earliest', enable_auto_commit=True)
    model = SGDClassifier(loss='log_loss')
    classes = np.array([0, 1])
    events = 0
    t0 = None
    c0 = None
    deadline = None
    while deadline is None or time.time() < deadline:
        polled = consumer.poll(timeout_ms=1000)
        for records in polled.values():
            for rec in records:
                if t0 is None:
                    t0, c0 = time.time(), cpu_seconds()
                    deadline = t0 + a.seconds
                events += 1
                if rec.value is None:
                    continue
                try:
                    ev = json.loads(rec.value)
                except ValueError:
                    continue
                row = ev.get('after') if isinstance(ev, dict) else None
                if not row or row.get('Response') not in (0, 1):
                    continue
                try:
                    x = np.array([[float(row[f]) for f in FEATURES]])
                except (KeyError, TypeError, ValueError):
                    continue
                model.partial_fit(x, np.array([row['Response']]), classes=classes)
    wall = time.time() - t0
    cpu = cpu_seconds() - c0
    consumer.close()
    print(json.dumps({'events': events, 'wall_s': round(wall, 1), 'events_per_s': round(events / wall),
                      'cpu_s': round(cpu, 1), 'events_per_cpu_s': round(events / cpu)}))


if __name__ == '__main__':
    main()
