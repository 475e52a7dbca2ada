// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/client/policy/loadbalancer_p.h>

#include <QtCore/QByteArrayView>
#include <QtCore/QMutex>
#include <QtCore/QRandomGenerator>
#include <optional>
#include <vector>

namespace Tomato {

// The random numbers of the policies. Unseeded (production): a generator per thread, so
// concurrent select() calls never contend for one. Seeded (tests): one generator behind a
// mutex, so a single-threaded test sees the same sequence on every run. Thread-safe.
class RandomSource
{
public:
    explicit RandomSource(std::optional<quint32> seed = std::nullopt);
    // A number in [0, highest); highest > 0.
    quint64 bounded(quint64 highest);

private:
    QMutex m_mutex;
    std::optional<QRandomGenerator> m_seeded;
};

// "random": each candidate with a probability proportional to its effectiveWeight(). O(n),
// no state but the generator, no heap allocation for up to 64 candidates. Thread-safe.
class RandomBalancer final : public LoadBalancer
{
public:
    explicit RandomBalancer(std::optional<quint32> seed = std::nullopt);
    QString name() const override;
    qsizetype select(const QList<Candidate *> &candidates, const CallInfo &call) override;

    // The weighted draw, shared with consistent-hash (calls without a hash key).
    static qsizetype pickWeighted(const QList<Candidate *> &candidates, RandomSource &random);

private:
    RandomSource m_random;
};

// "round-robin": smooth weighted round-robin, nginx's algorithm. Each pick adds every
// candidate's weight to its `current`, takes the largest (the first one on ties) and
// subtracts the total weight from the winner, so weights 5,1,1 give a a b a c a a: the heavy
// one spread out rather than five in a row.
//
// `current` is kept per instance key, not per position, because the candidate list changes
// between calls (circuits open, instances come and go): an instance left out for a few
// calls resumes where it was; one not seen for `forgetAfterPicks` selects starts again at 0,
// and its state is dropped at the next change of the candidate set, so departed instances
// do not accumulate. O(n) per select with no allocation while the candidate list is the same
// as the last call's; a changed list is realigned once (O(n) with a hash table). Thread-safe
// (one mutex: the state is shared by every caller).
class RoundRobinBalancer final : public LoadBalancer
{
public:
    explicit RoundRobinBalancer(quint64 forgetAfterPicks = 1000);
    QString name() const override;
    qsizetype select(const QList<Candidate *> &candidates, const CallInfo &call) override;

    // Instances whose state is held now (for tests: departed ones are forgotten).
    qsizetype trackedKeys() const;

private:
    struct State
    {
        QString key;
        qint64 current = 0;
        quint64 lastSeen = 0; // the pick count when it was last a candidate
    };
    bool alignedWith(const QList<Candidate *> &candidates) const;
    void realign(const QList<Candidate *> &candidates);

    const quint64 m_forgetAfter;
    mutable QMutex m_mutex;
    quint64 m_picks = 0;
    std::vector<State> m_states;
    std::vector<qsizetype> m_slotOf; // candidate position in the last list -> index in m_states
};

// "least-in-flight": the power of two choices. Two distinct candidates drawn uniformly, the
// one with fewer calls in flight per unit of weight wins (inFlight/weight compared by cross
// multiplication; on equal load the heavier one, then the first drawn). Drawing two rather
// than scanning all keeps it O(1) and avoids every client herding onto the same idle
// instance. A warming instance (low effective weight) thus gets calls when its peers are
// busier than it, relative to weight. Thread-safe; no state but the generator.
class LeastInFlightBalancer final : public LoadBalancer
{
public:
    explicit LeastInFlightBalancer(std::optional<quint32> seed = std::nullopt);
    QString name() const override;
    qsizetype select(const QList<Candidate *> &candidates, const CallInfo &call) override;

private:
    RandomSource m_random;
};

// "consistent-hash": a ring of `virtualNodes` points per instance, at hash("key#i"); a call
// goes to the owner of the first point at or after hash(CallInfo::hashKey), wrapping round.
// An instance joining or leaving moves only the keys of the arcs it gains or loses (~1/n).
// Where a key goes depends on the set of candidate keys only, not on their order nor on
// weights (warm-up changes weights every second; a ring following them would move keys all
// the time). The hash is XXH64 (seed 0), fixed and platform-independent, so every client maps
// a key to the same instance (qHash is seeded per process and may use AES instructions).
//
// The ring holds the points of the instances present now and of those absent for fewer than
// `forgetAfterSelects` selects; a lookup skips the points of absent ones, which gives exactly
// the ring of the present set. So a candidate list that leaves an instance out (its circuit
// opened, or failover excludes the instances already tried) costs no rebuild; the ring is
// rebuilt only when an instance it does not hold appears, or to drop the long absent. A
// select with the same list as the last one costs n key comparisons, one hash of the key and
// a binary search; another list, a realignment in O(n log n). A call without a hash key takes
// a weighted random candidate. Thread-safe (one mutex).
class ConsistentHashBalancer final : public LoadBalancer
{
public:
    explicit ConsistentHashBalancer(int virtualNodes = 160, std::optional<quint32> seed = std::nullopt,
                                    quint64 forgetAfterSelects = 1000);
    QString name() const override;
    qsizetype select(const QList<Candidate *> &candidates, const CallInfo &call) override;

    // XXH64 of `bytes` with `seed` (the reference algorithm; its published vectors are tested).
    static quint64 hash(QByteArrayView bytes, quint64 seed = 0);

    // For tests: instances on the ring now (present or recently absent), rings built so far.
    qsizetype ringInstances() const;
    quint64 ringBuilds() const;

private:
    struct Owner
    {
        QString key;
        qsizetype position = -1; // in the last candidate list; -1: absent from it
        quint64 absentSince = 0; // the select count when it was last left out
    };
    struct Point
    {
        quint64 hash;
        qsizetype owner; // index in m_owners
    };
    bool alignedWith(const QList<Candidate *> &candidates) const;
    void realign(const QList<Candidate *> &candidates);
    bool assignPositions();
    void rebuildRing();
    qsizetype ownerOf(const QString &key) const;

    const int m_virtualNodes;
    const quint64 m_forgetAfter;
    RandomSource m_random;
    mutable QMutex m_mutex;
    quint64 m_selects = 0;
    quint64 m_pruneAt = 0;     // when the longest absence passes the horizon (0: none absent)
    quint64 m_builds = 0;
    QStringList m_order;       // the keys of the last candidate list, in its order
    std::vector<Owner> m_owners; // sorted by key
    std::vector<Point> m_ring;   // sorted by hash, then owner
};

} // namespace Tomato
