import Foundation
let probe = PackageResources._001_inventory_sql
