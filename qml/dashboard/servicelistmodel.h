// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QAbstractListModel>
#include <QtCore/QSortFilterProxyModel>
#include <QtQml/qqmlregistration.h>

namespace Tomato {

class ClusterView;
class HealthPoller;

// The micro-services in the registry, one row each, sorted by id; rows are inserted and
// removed as services come and go, and changed in place.
// Roles: serviceId, instances, consumers, stages (["dev", "prod"]), unhealthy (instances
// not healthy), mixed (instances announce different interface hashes).
//
// Threads: the GUI thread.
class ServiceListModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by Dashboard")
public:
    enum Role { ServiceIdRole = Qt::UserRole + 1, InstancesRole, ConsumersRole, StagesRole, UnhealthyRole, MixedRole };
    ServiceListModel(ClusterView *cluster, HealthPoller *poller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;
    int rowOf(const QString &microServiceId) const;

private:
    void onEntryChanged(const QString &microServiceId);
    void onHealthChanged(const QString &address);

    ClusterView *m_cluster;
    HealthPoller *m_poller;
    QStringList m_ids; // the rows
};

// The service list as the view shows it: filtered by `filterText` (any part of the id, case
// ignored).
class ServiceFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by Dashboard")
    Q_PROPERTY(QString filterText READ filterText WRITE setFilterText NOTIFY filterTextChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
public:
    explicit ServiceFilterModel(QObject *parent = nullptr);
    QString filterText() const { return m_filterText; }
    void setFilterText(const QString &text);
    int count() const { return rowCount(); }
    // The service id of a row, for keyboard selection.
    Q_INVOKABLE QString serviceIdAt(int row) const;
Q_SIGNALS:
    void filterTextChanged();
    void countChanged();

private:
    QString m_filterText;
};

} // namespace Tomato
