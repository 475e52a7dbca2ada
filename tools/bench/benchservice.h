#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QObject>
#include <QtCore/QString>

namespace Bench {

// The echo service of the reference workloads: W1, W2 and W4 echo a 16-byte string,
// W3 a 1 MiB byte array.
class EchoService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "tomato-bench")
public:
    using QObject::QObject;
    Q_INVOKABLE virtual QString echo(const QString &message) = 0;
    Q_INVOKABLE virtual QByteArray echoBytes(const QByteArray &data) = 0;
};

} // namespace Bench
