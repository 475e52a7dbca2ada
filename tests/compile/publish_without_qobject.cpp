// SPDX-License-Identifier: Apache-2.0
// Must not compile: an interface class without Q_OBJECT has no meta-object of its own, so
// publishing it would expose its base class's methods (QObject's deleteLater among them).
// tests/compile/CMakeLists.txt expects the compiler to say why.
#include <tomato/server/rpcserver.h>

class ForgotTheMacro : public QObject
{
public:
    Q_INVOKABLE virtual QString echo(const QString &message) = 0;
};

class Implementation : public ForgotTheMacro
{
public:
    QString echo(const QString &message) override { return message; }
};

void publish(Tomato::RpcServer &server, Implementation *implementation)
{
    server.publish<ForgotTheMacro>(implementation);
}
