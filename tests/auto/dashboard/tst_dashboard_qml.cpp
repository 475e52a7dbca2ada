// SPDX-License-Identifier: Apache-2.0
// Runs the tst_*.qml files of this folder against the Tomato.Dashboard module linked in
// statically (its QML files from the resources, its C++ types registered by the plugin).
#include <QtQml/QQmlEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuickTest/quicktest.h>

Q_IMPORT_QML_PLUGIN(Tomato_DashboardPlugin)

class Setup : public QObject
{
    Q_OBJECT
public Q_SLOTS:
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
    }
};

QUICK_TEST_MAIN_WITH_SETUP(tst_dashboard_qml, Setup)

#include "tst_dashboard_qml.moc"
