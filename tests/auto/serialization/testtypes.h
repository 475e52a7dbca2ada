// SPDX-License-Identifier: Apache-2.0
#pragma once
// Value types for tst_marshal. Their names appear in the expected error messages, so they
// live in the global namespace like an application's own types usually do.
#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMap>
#include <QtCore/QObject>
#include <QtCore/QPoint>
#include <QtCore/QVariant>

namespace Shapes {
Q_NAMESPACE
enum class Kind { Circle, Square, Triangle };
Q_ENUM_NS(Kind)
} // namespace Shapes

// An enum without Q_ENUM: Qt knows it is an enum, but not its names.
enum PlainEnum { PlainA, PlainB };

struct Item
{
    Q_GADGET
    Q_PROPERTY(QString name MEMBER name)
    Q_PROPERTY(int count MEMBER count)
    Q_PROPERTY(Color color MEMBER color)
public:
    enum class Color { Red, Green = 5, Blue = -3 };
    Q_ENUM(Color)

    QString name;
    int count = 0;
    Color color = Color::Red;

    friend bool operator==(const Item &a, const Item &b)
    {
        return a.name == b.name && a.count == b.count && a.color == b.color;
    }
    friend bool operator!=(const Item &a, const Item &b) { return !(a == b); }
};

struct Order
{
    Q_GADGET
    Q_PROPERTY(QString id MEMBER id)
    Q_PROPERTY(QList<Item> items MEMBER items)
    Q_PROPERTY(QMap<QString, Item> byName MEMBER byName)
    Q_PROPERTY(Item primary MEMBER primary)
    Q_PROPERTY(QVariantMap extra MEMBER extra)
    Q_PROPERTY(QDateTime created MEMBER created)
    Q_PROPERTY(Shapes::Kind shape MEMBER shape)
    Q_PROPERTY(QVariant note MEMBER note)
    Q_PROPERTY(int total READ total) // computed, so not part of the value
public:
    QString id;
    QList<Item> items;
    QMap<QString, Item> byName;
    Item primary;
    QVariantMap extra;
    QDateTime created;
    Shapes::Kind shape = Shapes::Kind::Circle;
    QVariant note;

    int total() const
    {
        int sum = 0;
        for (const Item &i : items)
            sum += i.count;
        return sum;
    }

    friend bool operator==(const Order &a, const Order &b)
    {
        return a.id == b.id && a.items == b.items && a.byName == b.byName && a.primary == b.primary
                && a.extra == b.extra && a.created == b.created && a.shape == b.shape && a.note == b.note;
    }
    friend bool operator!=(const Order &a, const Order &b) { return !(a == b); }
};

// Non-trivial defaults, to show that properties missing from the input keep them.
struct Settings
{
    Q_GADGET
    Q_PROPERTY(int retries MEMBER retries)
    Q_PROPERTY(QString mode MEMBER mode)
    Q_PROPERTY(Level level MEMBER level)
    Q_PROPERTY(quint8 small MEMBER small)
public:
    enum class Level : quint8 { Low = 1, High = 200 };
    Q_ENUM(Level)

    int retries = 3;
    QString mode = QStringLiteral("fast");
    Level level = Level::Low;
    quint8 small = 7;

    friend bool operator==(const Settings &a, const Settings &b)
    {
        return a.retries == b.retries && a.mode == b.mode && a.level == b.level && a.small == b.small;
    }
    friend bool operator!=(const Settings &a, const Settings &b) { return !(a == b); }
};

// A recursive value type.
struct TreeNode
{
    Q_GADGET
    Q_PROPERTY(QString label MEMBER label)
    Q_PROPERTY(QList<TreeNode> children MEMBER children)
public:
    QString label;
    QList<TreeNode> children;

    friend bool operator==(const TreeNode &a, const TreeNode &b)
    {
        return a.label == b.label && a.children == b.children;
    }
    friend bool operator!=(const TreeNode &a, const TreeNode &b) { return !(a == b); }
};

struct BadGadget
{
    Q_GADGET
    Q_PROPERTY(QString name MEMBER name)
    Q_PROPERTY(QPoint pos MEMBER pos)
public:
    QString name;
    QPoint pos;
};

// Recursive and unsupported: the reason must be found despite the cycle.
struct BadTree
{
    Q_GADGET
    Q_PROPERTY(QList<BadTree> children MEMBER children)
    Q_PROPERTY(QPoint pos MEMBER pos)
public:
    QList<BadTree> children;
    QPoint pos;

    friend bool operator==(const BadTree &a, const BadTree &b)
    {
        return a.children == b.children && a.pos == b.pos;
    }
    friend bool operator!=(const BadTree &a, const BadTree &b) { return !(a == b); }
};

// Used only by RemoteApi, so that nothing in the test registers it or its containers.
struct RemoteGadget
{
    Q_GADGET
    Q_PROPERTY(QString name MEMBER name)
    Q_PROPERTY(QList<int> values MEMBER values)
public:
    QString name;
    QList<int> values;

    friend bool operator==(const RemoteGadget &a, const RemoteGadget &b)
    {
        return a.name == b.name && a.values == b.values;
    }
    friend bool operator!=(const RemoteGadget &a, const RemoteGadget &b) { return !(a == b); }
};

// A service interface as the server and stubs see it: the parameter types are known only
// through moc's metadata.
class RemoteApi : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    Q_INVOKABLE virtual void putGadgets(const QList<RemoteGadget> &gadgets) = 0;
    Q_INVOKABLE virtual void putLists(const QMap<QString, QList<int>> &lists) = 0;
    Q_INVOKABLE virtual void putIndex(const QHash<QString, RemoteGadget> &index) = 0;
};

// Used only by the concurrency test, so that its first use happens on many threads at once.
struct ConcurrentGadget
{
    Q_GADGET
    Q_PROPERTY(QString name MEMBER name)
    Q_PROPERTY(QList<qint16> values MEMBER values)
public:
    QString name;
    QList<qint16> values;

    friend bool operator==(const ConcurrentGadget &a, const ConcurrentGadget &b)
    {
        return a.name == b.name && a.values == b.values;
    }
    friend bool operator!=(const ConcurrentGadget &a, const ConcurrentGadget &b) { return !(a == b); }
};
