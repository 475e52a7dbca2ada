// SPDX-License-Identifier: Apache-2.0
#include "servicelistmodel.h"

#include "clusterview.h"
#include "healthpoller.h"

#include <algorithm>

namespace Tomato {

namespace {
bool unhealthy(const HealthPoller *poller, const QString &address)
{
    const InstanceHealth *h = poller->health(address);
    return h && h->state != QLatin1String("healthy") && h->state != QLatin1String("unknown");
}
} // namespace

ServiceListModel::ServiceListModel(ClusterView *cluster, HealthPoller *poller, QObject *parent)
    : QAbstractListModel(parent), m_cluster(cluster), m_poller(poller)
{
    connect(cluster, &ClusterView::entryChanged, this,
            [this](const QString &id, const QString &) { onEntryChanged(id); });
    if (poller)
        connect(poller, &HealthPoller::healthChanged, this, &ServiceListModel::onHealthChanged);
    m_ids = cluster->serviceIds();
}

int ServiceListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_ids.size());
}

int ServiceListModel::rowOf(const QString &microServiceId) const
{
    const auto it = std::lower_bound(m_ids.cbegin(), m_ids.cend(), microServiceId);
    return it != m_ids.cend() && *it == microServiceId ? int(it - m_ids.cbegin()) : -1;
}

void ServiceListModel::onEntryChanged(const QString &microServiceId)
{
    const int row = rowOf(microServiceId);
    const bool present = m_cluster->hasService(microServiceId);
    if (row >= 0 && present) {
        Q_EMIT dataChanged(index(row), index(row));
    } else if (row >= 0) {
        beginRemoveRows({}, row, row);
        m_ids.removeAt(row);
        endRemoveRows();
    } else if (present) {
        const int at = int(std::lower_bound(m_ids.cbegin(), m_ids.cend(), microServiceId) - m_ids.cbegin());
        beginInsertRows({}, at, at);
        m_ids.insert(at, microServiceId);
        endInsertRows();
    }
}

void ServiceListModel::onHealthChanged(const QString &address)
{
    for (int row = 0; row < m_ids.size(); ++row) {
        for (const RegistryServiceEntry *e : m_cluster->entries(m_ids[row])) {
            if (std::any_of(e->providers.cbegin(), e->providers.cend(),
                            [&](const InstanceInfo &i) { return i.address() == address; })) {
                Q_EMIT dataChanged(index(row), index(row), {UnhealthyRole});
                break;
            }
        }
    }
}

QVariant ServiceListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const QString &id = m_ids[index.row()];
    const QList<const RegistryServiceEntry *> entries = m_cluster->entries(id);
    switch (role) {
    case Qt::DisplayRole:
    case ServiceIdRole:
        return id;
    case StagesRole: {
        QStringList stages;
        for (const RegistryServiceEntry *e : entries)
            stages.append(e->stage);
        return stages;
    }
    case MixedRole:
        return !m_cluster->majorityHash(id).isEmpty();
    default:
        break;
    }
    int instances = 0, consumers = 0, bad = 0;
    for (const RegistryServiceEntry *e : entries) {
        instances += int(e->providers.size());
        consumers += int(e->consumers.size());
        for (const InstanceInfo &i : e->providers)
            bad += m_poller && unhealthy(m_poller, i.address()) ? 1 : 0;
    }
    switch (role) {
    case InstancesRole:
        return instances;
    case ConsumersRole:
        return consumers;
    case UnhealthyRole:
        return bad;
    default:
        return {};
    }
}

QHash<int, QByteArray> ServiceListModel::roleNames() const
{
    return {{ServiceIdRole, "serviceId"}, {InstancesRole, "instances"}, {ConsumersRole, "consumers"},
            {StagesRole, "stages"},       {UnhealthyRole, "unhealthy"}, {MixedRole, "mixed"}};
}

ServiceFilterModel::ServiceFilterModel(QObject *parent) : QSortFilterProxyModel(parent)
{
    setFilterRole(ServiceListModel::ServiceIdRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
    connect(this, &QAbstractItemModel::rowsInserted, this, &ServiceFilterModel::countChanged);
    connect(this, &QAbstractItemModel::rowsRemoved, this, &ServiceFilterModel::countChanged);
    connect(this, &QAbstractItemModel::modelReset, this, &ServiceFilterModel::countChanged);
    connect(this, &QAbstractItemModel::layoutChanged, this, &ServiceFilterModel::countChanged);
}

void ServiceFilterModel::setFilterText(const QString &text)
{
    if (text == m_filterText)
        return;
    m_filterText = text;
    setFilterFixedString(text);
    Q_EMIT filterTextChanged();
    Q_EMIT countChanged();
}

QString ServiceFilterModel::serviceIdAt(int row) const
{
    return data(index(row, 0), ServiceListModel::ServiceIdRole).toString();
}

} // namespace Tomato
