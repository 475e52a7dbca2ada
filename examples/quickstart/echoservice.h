// SPDX-License-Identifier: Apache-2.0
// echoservice.h: the interface, shared by the server and the client.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QString>

class EchoService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "echo-service")
public:
    using QObject::QObject;
    Q_INVOKABLE virtual QString echo(const QString &message) = 0;
};
