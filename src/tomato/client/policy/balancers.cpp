// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/policy/balancers_p.h>

#include <QtCore/QHash>
#include <QtCore/QVarLengthArray>
#include <QtCore/QtEndian>
#include <algorithm>

namespace Tomato {

// ---------------------------------------------------------------------------------------------
// RandomSource

RandomSource::RandomSource(std::optional<quint32> seed)
{
    if (seed)
        m_seeded.emplace(*seed);
}

quint64 RandomSource::bounded(quint64 highest)
{
    if (m_seeded) {
        QMutexLocker lock(&m_mutex);
        return m_seeded->bounded(highest);
    }
    // One generator per thread: QRandomGenerator::global() takes a process-wide lock per
    // number, which every select() of every service would contend for.
    thread_local QRandomGenerator perThread = QRandomGenerator::securelySeeded();
    return perThread.bounded(highest);
}

// ---------------------------------------------------------------------------------------------
// random

RandomBalancer::RandomBalancer(std::optional<quint32> seed)
    : m_random(seed)
{
}

QString RandomBalancer::name() const
{
    return QStringLiteral("random");
}

qsizetype RandomBalancer::select(const QList<Candidate *> &candidates, const CallInfo &)
{
    return pickWeighted(candidates, m_random);
}

qsizetype RandomBalancer::pickWeighted(const QList<Candidate *> &candidates, RandomSource &random)
{
    Q_ASSERT(!candidates.isEmpty()); // the caller fails the call with NoProvider instead
    const qsizetype n = candidates.size();
    if (n == 1)
        return 0;
    // Each weight is read once (it may change under us), so the draw and the scan agree.
    QVarLengthArray<int, 64> weights(n);
    quint64 total = 0;
    for (qsizetype i = 0; i < n; ++i) {
        weights[i] = std::max(1, candidates[i]->effectiveWeight());
        total += quint64(weights[i]);
    }
    quint64 r = random.bounded(total);
    for (qsizetype i = 0; i < n; ++i) {
        if (r < quint64(weights[i]))
            return i;
        r -= quint64(weights[i]);
    }
    return n - 1; // not reached: r < total
}

// ---------------------------------------------------------------------------------------------
// round-robin

RoundRobinBalancer::RoundRobinBalancer(quint64 forgetAfterPicks)
    : m_forgetAfter(forgetAfterPicks)
{
}

QString RoundRobinBalancer::name() const
{
    return QStringLiteral("round-robin");
}

qsizetype RoundRobinBalancer::select(const QList<Candidate *> &candidates, const CallInfo &)
{
    Q_ASSERT(!candidates.isEmpty()); // the caller fails the call with NoProvider instead
    const qsizetype n = candidates.size();
    QMutexLocker lock(&m_mutex);
    ++m_picks;
    if (!alignedWith(candidates))
        realign(candidates);

    qint64 total = 0;
    State *best = nullptr;
    qsizetype bestIndex = 0;
    for (qsizetype i = 0; i < n; ++i) {
        State &state = m_states[size_t(m_slotOf[size_t(i)])];
        const int weight = std::max(1, candidates[i]->effectiveWeight());
        state.current += weight;
        state.lastSeen = m_picks;
        total += weight;
        // Strictly greater: the first of equals wins, as in nginx (and the documented sequence).
        if (!best || state.current > best->current) {
            best = &state;
            bestIndex = i;
        }
    }
    best->current -= total;
    return bestIndex;
}

qsizetype RoundRobinBalancer::trackedKeys() const
{
    QMutexLocker lock(&m_mutex);
    return qsizetype(m_states.size());
}

bool RoundRobinBalancer::alignedWith(const QList<Candidate *> &candidates) const
{
    if (m_slotOf.size() != size_t(candidates.size()))
        return false;
    for (qsizetype i = 0; i < candidates.size(); ++i) {
        if (m_states[size_t(m_slotOf[size_t(i)])].key != candidates[i]->key())
            return false;
    }
    return true;
}

void RoundRobinBalancer::realign(const QList<Candidate *> &candidates)
{
    QHash<QString, qsizetype> previous;
    previous.reserve(qsizetype(m_states.size()));
    for (size_t i = 0; i < m_states.size(); ++i)
        previous.insert(m_states[i].key, qsizetype(i));

    std::vector<State> next;
    next.reserve(m_states.size() + size_t(candidates.size()));
    QHash<QString, qsizetype> nextIndex;
    nextIndex.reserve(candidates.size());
    m_slotOf.assign(size_t(candidates.size()), 0);
    for (qsizetype i = 0; i < candidates.size(); ++i) {
        const QString &key = candidates[i]->key();
        auto found = nextIndex.constFind(key);
        if (found == nextIndex.constEnd()) {
            State state{key, 0, m_picks};
            const qsizetype old = previous.value(key, -1);
            // A short absence (a circuit open for a moment) resumes the rotation where it was;
            // after a long one the old credit or debt means nothing any more.
            if (old >= 0 && m_picks - m_states[size_t(old)].lastSeen <= m_forgetAfter)
                state.current = m_states[size_t(old)].current;
            next.push_back(state);
            found = nextIndex.insert(key, qsizetype(next.size() - 1));
        }
        m_slotOf[size_t(i)] = found.value();
    }
    // Absent instances are kept for a while (they may come back), then dropped.
    for (const State &state : m_states) {
        if (!nextIndex.contains(state.key) && m_picks - state.lastSeen <= m_forgetAfter)
            next.push_back(state);
    }
    m_states.swap(next);
}

// ---------------------------------------------------------------------------------------------
// least-in-flight

LeastInFlightBalancer::LeastInFlightBalancer(std::optional<quint32> seed)
    : m_random(seed)
{
}

QString LeastInFlightBalancer::name() const
{
    return QStringLiteral("least-in-flight");
}

qsizetype LeastInFlightBalancer::select(const QList<Candidate *> &candidates, const CallInfo &)
{
    Q_ASSERT(!candidates.isEmpty()); // the caller fails the call with NoProvider instead
    const qsizetype n = candidates.size();
    if (n == 1)
        return 0;
    // One draw gives an ordered pair of distinct positions: a in [0, n), b in [0, n) \ {a}.
    const quint64 pair = m_random.bounded(quint64(n) * quint64(n - 1));
    const qsizetype a = qsizetype(pair / quint64(n - 1));
    qsizetype b = qsizetype(pair % quint64(n - 1));
    if (b >= a)
        ++b;

    const qint64 weightA = std::max(1, candidates[a]->effectiveWeight());
    const qint64 weightB = std::max(1, candidates[b]->effectiveWeight());
    const qint64 loadA = std::max(0, candidates[a]->inFlight());
    const qint64 loadB = std::max(0, candidates[b]->inFlight());
    // loadA/weightA < loadB/weightB, without division.
    const qint64 left = loadA * weightB;
    const qint64 right = loadB * weightA;
    if (left != right)
        return left < right ? a : b;
    return weightB > weightA ? b : a;
}

// ---------------------------------------------------------------------------------------------
// consistent-hash

ConsistentHashBalancer::ConsistentHashBalancer(int virtualNodes, std::optional<quint32> seed,
                                               quint64 forgetAfterSelects)
    : m_virtualNodes(std::max(1, virtualNodes)), m_forgetAfter(forgetAfterSelects), m_random(seed)
{
}

QString ConsistentHashBalancer::name() const
{
    return QStringLiteral("consistent-hash");
}

qsizetype ConsistentHashBalancer::select(const QList<Candidate *> &candidates, const CallInfo &call)
{
    Q_ASSERT(!candidates.isEmpty()); // the caller fails the call with NoProvider instead
    if (call.hashKey.isEmpty())
        return RandomBalancer::pickWeighted(candidates, m_random);
    if (candidates.size() == 1)
        return 0;
    const quint64 point = hash(call.hashKey);

    QMutexLocker lock(&m_mutex);
    ++m_selects;
    if (!alignedWith(candidates) || (m_pruneAt != 0 && m_selects >= m_pruneAt))
        realign(candidates);
    const auto first = std::lower_bound(m_ring.cbegin(), m_ring.cend(), point,
                                        [](const Point &p, quint64 value) { return p.hash < value; });
    // Clockwise from there, wrapping round, to the first point of an instance in the list.
    // Every candidate has points on the ring, so this ends within one turn.
    const size_t size = m_ring.size();
    const size_t start = size_t(first - m_ring.cbegin());
    for (size_t step = 0; step < size; ++step) {
        const qsizetype position = m_owners[size_t(m_ring[(start + step) % size].owner)].position;
        if (position >= 0)
            return position;
    }
    return 0; // not reached
}

qsizetype ConsistentHashBalancer::ringInstances() const
{
    QMutexLocker lock(&m_mutex);
    return qsizetype(m_owners.size());
}

quint64 ConsistentHashBalancer::ringBuilds() const
{
    QMutexLocker lock(&m_mutex);
    return m_builds;
}

bool ConsistentHashBalancer::alignedWith(const QList<Candidate *> &candidates) const
{
    if (m_order.size() != candidates.size())
        return false;
    for (qsizetype i = 0; i < candidates.size(); ++i) {
        if (m_order[i] != candidates[i]->key())
            return false;
    }
    return true;
}

void ConsistentHashBalancer::realign(const QList<Candidate *> &candidates)
{
    m_order.clear();
    for (const Candidate *candidate : candidates)
        m_order.append(candidate->key());
    // The instances present until now are absent from now on, unless the new list has them.
    for (Owner &owner : m_owners) {
        if (owner.position >= 0)
            owner.absentSince = m_selects;
    }
    bool current = assignPositions();
    for (const Owner &owner : m_owners) {
        if (current && owner.position < 0 && m_selects - owner.absentSince > m_forgetAfter)
            current = false;
    }
    if (!current) {
        rebuildRing();
        assignPositions();
    }
    m_pruneAt = 0;
    for (const Owner &owner : m_owners) {
        if (owner.position < 0) {
            const quint64 due = owner.absentSince + m_forgetAfter + 1;
            m_pruneAt = m_pruneAt == 0 ? due : std::min(m_pruneAt, due);
        }
    }
}

// Maps the owners to their positions in m_order; false when some key has no points yet.
bool ConsistentHashBalancer::assignPositions()
{
    for (Owner &owner : m_owners)
        owner.position = -1;
    // Backwards, so that a key listed twice maps to its first position.
    for (qsizetype i = m_order.size() - 1; i >= 0; --i) {
        const qsizetype owner = ownerOf(m_order[i]);
        if (owner < 0)
            return false;
        m_owners[size_t(owner)].position = i;
    }
    return true;
}

void ConsistentHashBalancer::rebuildRing()
{
    // The new owners: the listed instances, and the absent ones still within the horizon.
    std::vector<Owner> owners;
    owners.reserve(m_owners.size() + size_t(m_order.size()));
    for (const Owner &owner : m_owners) {
        if (m_selects - owner.absentSince <= m_forgetAfter)
            owners.push_back({owner.key, -1, owner.absentSince});
    }
    for (const QString &key : std::as_const(m_order))
        owners.push_back({key, -1, m_selects});
    std::sort(owners.begin(), owners.end(), [](const Owner &l, const Owner &r) { return l.key < r.key; });
    owners.erase(std::unique(owners.begin(), owners.end(),
                             [](const Owner &l, const Owner &r) { return l.key == r.key; }),
                 owners.end());
    m_owners.swap(owners);

    m_ring.clear();
    m_ring.reserve(m_owners.size() * size_t(m_virtualNodes));
    for (size_t owner = 0; owner < m_owners.size(); ++owner) {
        const QByteArray prefix = m_owners[owner].key.toUtf8() + '#';
        for (int i = 0; i < m_virtualNodes; ++i)
            m_ring.push_back({hash(prefix + QByteArray::number(i)), qsizetype(owner)});
    }
    // Owners (sorted by key) break ties between equal hashes, so two points collide the same
    // way on every client and whatever other instances the ring holds.
    std::sort(m_ring.begin(), m_ring.end(), [](const Point &l, const Point &r) {
        return l.hash != r.hash ? l.hash < r.hash : l.owner < r.owner;
    });
    ++m_builds;
}

qsizetype ConsistentHashBalancer::ownerOf(const QString &key) const
{
    const auto it = std::lower_bound(m_owners.cbegin(), m_owners.cend(), key,
                                     [](const Owner &owner, const QString &k) { return owner.key < k; });
    return it != m_owners.cend() && it->key == key ? qsizetype(it - m_owners.cbegin()) : -1;
}

namespace {
constexpr quint64 Prime1 = 0x9E3779B185EBCA87ULL;
constexpr quint64 Prime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr quint64 Prime3 = 0x165667B19E3779F9ULL;
constexpr quint64 Prime4 = 0x85EBCA77C2B2AE63ULL;
constexpr quint64 Prime5 = 0x27D4EB2F165667C5ULL;

constexpr quint64 rotl(quint64 x, int r)
{
    return (x << r) | (x >> (64 - r));
}

constexpr quint64 xxRound(quint64 acc, quint64 input)
{
    return rotl(acc + input * Prime2, 31) * Prime1;
}

constexpr quint64 mergeRound(quint64 acc, quint64 value)
{
    return (acc ^ xxRound(0, value)) * Prime1 + Prime4;
}
} // namespace

quint64 ConsistentHashBalancer::hash(QByteArrayView bytes, quint64 seed)
{
    const auto *p = reinterpret_cast<const uchar *>(bytes.data());
    const auto *const end = p + bytes.size();
    quint64 h;
    if (bytes.size() >= 32) {
        quint64 v1 = seed + Prime1 + Prime2;
        quint64 v2 = seed + Prime2;
        quint64 v3 = seed;
        quint64 v4 = seed - Prime1;
        do {
            v1 = xxRound(v1, qFromLittleEndian<quint64>(p));
            v2 = xxRound(v2, qFromLittleEndian<quint64>(p + 8));
            v3 = xxRound(v3, qFromLittleEndian<quint64>(p + 16));
            v4 = xxRound(v4, qFromLittleEndian<quint64>(p + 24));
            p += 32;
        } while (end - p >= 32);
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
        h = mergeRound(h, v1);
        h = mergeRound(h, v2);
        h = mergeRound(h, v3);
        h = mergeRound(h, v4);
    } else {
        h = seed + Prime5;
    }
    h += quint64(bytes.size());
    for (; end - p >= 8; p += 8)
        h = rotl(h ^ xxRound(0, qFromLittleEndian<quint64>(p)), 27) * Prime1 + Prime4;
    if (end - p >= 4) {
        h = rotl(h ^ (quint64(qFromLittleEndian<quint32>(p)) * Prime1), 23) * Prime2 + Prime3;
        p += 4;
    }
    for (; p < end; ++p)
        h = rotl(h ^ (quint64(*p) * Prime5), 11) * Prime1;
    h ^= h >> 33;
    h *= Prime2;
    h ^= h >> 29;
    h *= Prime3;
    h ^= h >> 32;
    return h;
}

} // namespace Tomato
