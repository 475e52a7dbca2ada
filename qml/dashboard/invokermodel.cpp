// SPDX-License-Identifier: Apache-2.0
#include "invokermodel.h"

#include "clusterview.h"
#include "healthpoller.h"

#include <QtCore/QDateTime>

#include <algorithm>
#include <tuple>

namespace Tomato {

namespace {
auto sortKey(const InstanceInfo &i)
{
    return std::make_tuple(i.stage(), i.group(), i.host(), i.port(), i.startTime());
}
} // namespace

QString InvokerModel::Row::key() const
{
    return info.stage() + QLatin1Char('\n') + info.address() + QLatin1Char('\n') + QString::number(info.startTime());
}

InvokerModel::InvokerModel(ClusterView *cluster, HealthPoller *poller, QObject *parent)
    : QAbstractListModel(parent), m_cluster(cluster), m_poller(poller)
{
    connect(cluster, &ClusterView::entryChanged, this, &InvokerModel::onEntryChanged);
    if (poller)
        connect(poller, &HealthPoller::healthChanged, this, &InvokerModel::onHealthChanged);
}

void InvokerModel::setMicroServiceId(const QString &id)
{
    if (id == m_service)
        return;
    beginResetModel(); // another service: nothing to keep
    m_service = id;
    m_rows.clear();
    endResetModel();
    Q_EMIT microServiceIdChanged();
    m_majorityHash = m_cluster->majorityHash(id);
    for (const RegistryServiceEntry *e : m_cluster->entries(id))
        syncStage(e->stage);
    updateSections();
}

QStringList InvokerModel::addresses() const
{
    QStringList out;
    for (const Row &r : m_rows)
        out.append(r.info.address());
    return out;
}

int InvokerModel::rowOf(const QString &stage, const QString &address) const
{
    for (int row = 0; row < int(m_rows.size()); ++row) {
        if (m_rows[size_t(row)].info.stage() == stage && m_rows[size_t(row)].info.address() == address)
            return row;
    }
    return -1;
}

void InvokerModel::onEntryChanged(const QString &microServiceId, const QString &stage)
{
    if (microServiceId != m_service)
        return;
    const QString majority = m_cluster->majorityHash(m_service);
    const bool hashesMoved = majority != m_majorityHash;
    m_majorityHash = majority;
    syncStage(stage);
    if (hashesMoved && !m_rows.empty())
        Q_EMIT dataChanged(index(0), index(count() - 1), {HashMismatchRole});
    updateSections();
}

// Brings the rows of one stage in line with the registry: removes, inserts and changes rows
// one by one.
void InvokerModel::syncStage(const QString &stage)
{
    const RegistryServiceEntry *entry = m_cluster->entry(m_service, stage);
    std::vector<Row> wanted;
    if (entry) {
        for (const InstanceInfo &i : entry->providers) {
            const auto o = entry->overrides.constFind(i.address());
            wanted.push_back(Row{i, o == entry->overrides.cend() ? std::nullopt : std::optional(*o)});
        }
    }
    std::sort(wanted.begin(), wanted.end(), [](const Row &a, const Row &b) { return sortKey(a.info) < sortKey(b.info); });
    // Gone rows first, from the end so that rows keep their numbers while we go.
    for (int row = count() - 1; row >= 0; --row) {
        const Row &r = m_rows[size_t(row)];
        if (r.info.stage() != stage)
            continue;
        if (std::none_of(wanted.cbegin(), wanted.cend(), [&](const Row &w) { return w.key() == r.key(); })) {
            beginRemoveRows({}, row, row);
            m_rows.erase(m_rows.begin() + row);
            endRemoveRows();
        }
    }
    for (const Row &w : wanted) {
        const auto it = std::find_if(m_rows.begin(), m_rows.end(), [&](const Row &r) { return r.key() == w.key(); });
        if (it != m_rows.end() && sortKey(it->info) != sortKey(w.info)) {
            // It moved (another group): out of its place, then in at its new one.
            const int row = int(it - m_rows.begin());
            beginRemoveRows({}, row, row);
            m_rows.erase(it);
            endRemoveRows();
        } else if (it != m_rows.end()) {
            if (it->info != w.info || it->override != w.override) {
                *it = w;
                const QModelIndex at = index(int(it - m_rows.begin()));
                Q_EMIT dataChanged(at, at);
            }
            continue;
        }
        const auto pos = std::lower_bound(m_rows.begin(), m_rows.end(), w,
                                          [](const Row &a, const Row &b) { return sortKey(a.info) < sortKey(b.info); });
        const int row = int(pos - m_rows.begin());
        beginInsertRows({}, row, row);
        m_rows.insert(pos, w);
        endInsertRows();
    }
}

void InvokerModel::onHealthChanged(const QString &address)
{
    bool any = false;
    for (int row = 0; row < count(); ++row) {
        if (m_rows[size_t(row)].info.address() == address) {
            Q_EMIT dataChanged(index(row), index(row),
                               {StateRole, StateReasonRole, CallsPerSecondRole, ErrorRateRole, P99MsRole, InFlightRole});
            any = true;
        }
    }
    if (any)
        updateSections(); // healthy counts
}

void InvokerModel::tick()
{
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0), index(count() - 1), {UptimeSecondsRole, WarmupPercentRole, EffectiveWeightRole});
}

void InvokerModel::refusalsChanged()
{
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0), index(count() - 1), {ActionRefusalRole});
}

QString InvokerModel::stateOf(bool disabled, const QString &polledState)
{
    return disabled ? QStringLiteral("disabled") : polledState;
}

void InvokerModel::updateSections()
{
    QVariantList sections;
    QHash<QString, int> perStage;
    for (const Row &r : m_rows)
        ++perStage[r.info.stage()];
    QString lastStage;
    for (size_t row = 0; row < m_rows.size();) {
        const InstanceInfo &first = m_rows[row].info;
        int count = 0, healthy = 0;
        for (; row < m_rows.size() && m_rows[row].info.stage() == first.stage()
               && m_rows[row].info.group() == first.group();
             ++row) {
            ++count;
            healthy += value(m_rows[row], StateRole).toString() == QLatin1String("healthy") ? 1 : 0;
        }
        sections.append(QVariantMap{{QStringLiteral("section"), first.stage() + QLatin1Char('/') + first.group()},
                                    {QStringLiteral("stage"), first.stage()},
                                    {QStringLiteral("group"), first.group()},
                                    {QStringLiteral("count"), count},
                                    {QStringLiteral("healthy"), healthy},
                                    {QStringLiteral("firstInStage"), first.stage() != lastStage},
                                    {QStringLiteral("stageCount"), perStage.value(first.stage())}});
        lastStage = first.stage();
    }
    if (sections != m_sections) {
        m_sections = sections;
        Q_EMIT sectionsChanged();
    }
}

int InvokerModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : count();
}

QVariant InvokerModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    return value(m_rows[size_t(index.row())], role);
}

QVariant InvokerModel::value(const Row &row, int role) const
{
    const InstanceInfo &i = row.info;
    const bool disabled = row.override && row.override->disabled;
    const int weight = row.override && row.override->weight ? *row.override->weight : i.weight();
    const qint64 uptimeMs = i.startTime() > 0 ? std::max<qint64>(0, QDateTime::currentMSecsSinceEpoch() - i.startTime()) : -1;
    const double warmup = uptimeMs < 0 || m_warmupSeconds <= 0 ? 1.0 : std::min(1.0, uptimeMs / (m_warmupSeconds * 1000.0));
    const InstanceHealth *health = m_poller ? m_poller->health(i.address()) : nullptr;
    const HealthSample latest = health ? health->latest() : HealthSample{};
    switch (role) {
    case StageRole: return i.stage();
    case GroupRole: return i.group();
    case SectionRole: return i.stage() + QLatin1Char('/') + i.group();
    case Qt::DisplayRole:
    case AddressRole: return i.address();
    case HostRole: return i.host();
    case PortRole: return i.port();
    case TransportRole: return i.transport();
    case WeightRole: return i.weight();
    case OverrideWeightRole: return row.override && row.override->weight ? *row.override->weight : -1;
    case EffectiveWeightRole: return disabled ? 0 : std::max(1, int(weight * warmup));
    case DisabledRole: return disabled;
    case WarmupPercentRole: return int(warmup * 100);
    case UptimeSecondsRole: return uptimeMs < 0 ? -1 : uptimeMs / 1000;
    case StartedAtRole: return i.startTime();
    case InterfaceHashRole: return i.interfaces();
    case HashMismatchRole: return !m_majorityHash.isEmpty() && i.interfaces() != m_majorityHash;
    case StateRole: return stateOf(disabled, health ? health->state : QStringLiteral("unknown"));
    case StateReasonRole:
        return disabled ? QStringLiteral("disabled by an override: clients send it no new calls")
                        : health ? health->reason : QString();
    case CallsPerSecondRole: return latest.callsPerSecond;
    case ErrorRateRole: return latest.errorRate;
    case P99MsRole: return health && !health->history.empty() ? latest.p99Ms : -1.0;
    case InFlightRole: return latest.inFlight;
    case ActionRefusalRole: return m_refusal ? m_refusal(i.stage()) : QString();
    default: return {};
    }
}

QHash<int, QByteArray> InvokerModel::roleNames() const
{
    return {{StageRole, "stage"},
            {GroupRole, "group"},
            {SectionRole, "section"},
            {AddressRole, "address"},
            {HostRole, "host"},
            {PortRole, "port"},
            {TransportRole, "transport"},
            {WeightRole, "weight"},
            {OverrideWeightRole, "overrideWeight"},
            {EffectiveWeightRole, "effectiveWeight"},
            {DisabledRole, "disabled"},
            {WarmupPercentRole, "warmupPercent"},
            {UptimeSecondsRole, "uptimeSeconds"},
            {StartedAtRole, "startedAt"},
            {InterfaceHashRole, "interfaceHash"},
            {HashMismatchRole, "hashMismatch"},
            {StateRole, "state"},
            {StateReasonRole, "stateReason"},
            {CallsPerSecondRole, "callsPerSecond"},
            {ErrorRateRole, "errorRate"},
            {P99MsRole, "p99Ms"},
            {InFlightRole, "inFlight"},
            {ActionRefusalRole, "actionRefusal"}};
}

} // namespace Tomato
